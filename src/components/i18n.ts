/** The site's two languages and the few words the components need in each. */
export type Lang = 'ja' | 'en';
export const LANGS: readonly Lang[] = ['ja', 'en'];

export function langOf(locale: string | undefined): Lang {
  return locale === 'en' ? 'en' : 'ja';
}

/** Numbers as the page prints them: weights to 3 significant digits, with a real minus sign. */
export function formatWeight(value: number): string {
  return value.toPrecision(3).replace('-', '−');
}

export const strings = {
  ja: {
    modeName: { filter: 'フィルタごとに正規化', global: '全フィルタ共通のスケール', zero: '0 を中心に正規化（灰色 = 0）' },
    orderName: { column: 'i 番目のフィルタを ⌊i/8⌋ 列・i mod 8 行に配置（元記事と同じ順）', row: 'i 番目のフィルタを ⌊i/8⌋ 行・i mod 8 列に配置' },
    gridAlt: (n: number, kh: number, kw: number, mode: string, order: string) =>
      `conv1 の ${n} 個のフィルタ（各 ${kh}×${kw}）を 1 ピクセルの黒い隙間で並べたグリッド。${mode}。${order}。`,
    gridCaption: (n: number, size: string, scale: number) => `conv1 の ${n} 個のフィルタ（${size} ピクセルの画像を ${scale} 倍に拡大）。`,
    download: (size: string) => `元の ${size} PNG をダウンロード`,
    range: (min: string, max: string) => `黒 = ${min}、白 = ${max}`,
    rangePerFilter: (min: string, max: string) => `各フィルタの最小値が黒、最大値が白（層全体の範囲は ${min} 〜 ${max}）`,
    filterAlt: (f: number, kh: number, kw: number, scale: number, min: string, max: string, mode: string) =>
      `conv1 のフィルタ ${f}：${kh}×${kw} の重みを ${scale} 倍に拡大し、BGR を RGB に直して表示。重みは ${min} 〜 ${max}。${mode}。`,
    filterCaption: (f: number) => `フィルタ ${f}`,
    stats: (min: string, max: string, l2: string) => `最小 ${min} ・ 最大 ${max} ・ L2 ノルム ${l2}`,
    photoAlt: (title: string) => `写真「${title}」（応答と同じ範囲に切り抜き）`,
    responseAlt: (f: number, title: string) =>
      `写真「${title}」にフィルタ ${f} を畳み込んだ応答。灰色 = 0、白 = 強い正の応答、黒 = 強い負の応答。`,
    convolutionCaption: (f: number, title: string, credit: string) => `左：${title}（${credit}）。右：フィルタ ${f} の応答（灰色 = 0、白 = 正、黒 = 負）。`,
    info: {
      model: 'モデル', layer: '層', shape: 'カーネルの形', axes: '（高さ, 幅, 入力チャンネル, フィルタ数）', strides: 'ストライド',
      channels: '入力チャンネル順', source: '根拠', mean: '入力から引く平均', bytes: '読んだバイト数', format: '形式', convs: '畳み込み層の数',
    },
  },
  en: {
    modeName: { filter: 'each filter scaled on its own min and max', global: 'one scale for all filters', zero: 'one scale centred on zero (mid-grey = 0)' },
    orderName: { column: 'filter i at column ⌊i/8⌋, row i mod 8 (the original order)', row: 'filter i at row ⌊i/8⌋, column i mod 8' },
    gridAlt: (n: number, kh: number, kw: number, mode: string, order: string) =>
      `Grid of the ${n} conv1 filters, ${kh}×${kw} each, separated by 1-pixel black gaps; ${mode}; ${order}.`,
    gridCaption: (n: number, size: string, scale: number) => `The ${n} filters of conv1 (a ${size} pixel image, enlarged ${scale}×).`,
    download: (size: string) => `Download the original ${size} PNG`,
    range: (min: string, max: string) => `black = ${min}, white = ${max}`,
    rangePerFilter: (min: string, max: string) => `each filter's minimum is black and its maximum white (the layer spans ${min} to ${max})`,
    filterAlt: (f: number, kh: number, kw: number, scale: number, min: string, max: string, mode: string) =>
      `Filter ${f} of conv1: its ${kh}×${kw} weights enlarged ${scale}×, channels turned from BGR to RGB; weights from ${min} to ${max}; ${mode}.`,
    filterCaption: (f: number) => `Filter ${f}`,
    stats: (min: string, max: string, l2: string) => `min ${min} · max ${max} · L2 norm ${l2}`,
    photoAlt: (title: string) => `The photo “${title}”, cropped to the area the response covers`,
    responseAlt: (f: number, title: string) =>
      `Response of filter ${f} on the photo “${title}”: mid-grey is zero, white a strong positive and black a strong negative response.`,
    convolutionCaption: (f: number, title: string, credit: string) => `Left: ${title} (${credit}). Right: response of filter ${f} (mid-grey = 0, white positive, black negative).`,
    info: {
      model: 'Model', layer: 'Layer', shape: 'Kernel shape', axes: '(height, width, input channels, filters)', strides: 'Strides',
      channels: 'Input channel order', source: 'because of', mean: 'Mean subtracted from the input', bytes: 'Bytes read', format: 'Format', convs: 'Convolution layers',
    },
  },
} as const;
