import type { Conv1Model } from 'virtual:conv1';

/**
 * Whether the model was drawn with `figureSet: 'layer'`: the layer and its analysis only. The
 * pipeline sweeps noise over every model drawn with 'all', so an empty sweep means 'layer'.
 */
export function layerOnly(model: Conv1Model): boolean {
  return model.data.noiseSweep.length === 0;
}

/**
 * Stops the build, naming the component, the model and the fix, when a component needs figures that
 * `figureSet: 'layer'` leaves out (photos, responses, comparisons, the noise sweep, edge tests).
 */
export function requireAllFigures(model: Conv1Model, component: string): void {
  if (!layerOnly(model)) return;
  const where = model.name === 'default' ? 'in the options of conv1()' : `in its entry under \`models\` in conv1()`;
  throw new Error(
    `<${component}${model.name === 'default' ? '' : ` model="${model.name}"`}>: the model "${model.name}" is drawn with figureSet: 'layer', ` +
      `which leaves out the photos, comparisons, noise sweep and edge tests this component shows; set figureSet: 'all' ${where}, or use a component that shows the layer itself (Conv1Grid, Conv1Filter, Conv1Explorer, Conv1Report, Conv1ModelInfo, Conv1Gallery)`,
  );
}
