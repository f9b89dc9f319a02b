/**
 * Every family a filter's numbers fit, not only the one the classifier chose. The classifier
 * (src/lib/analyse/family.ts) takes the first rule that matches; a colour-contrast filter can be
 * just as good an oriented edge, and a reader who sees "orientation 3°, Gabor R² 0.97" beside
 * "colour contrast" deserves to be told so. The tests are the classifier's own, on the same
 * thresholds, each with the numbers that pass it.
 */
import type { FamilyReason } from './i18n.ts';
import { THRESHOLDS, type FilterReport } from './library.ts';

const T = THRESHOLDS;

/** The reasons of every rule the filter passes, the chosen family first. */
export function familyReasons(filter: FilterReport): FamilyReason[] {
  const { strength, noise, colour, spectrum, gabor, radial } = filter;
  if (strength.dead) return [{ family: 'dead', tests: [['l2', strength.relativeToMedian, '<', T.DEAD_NORM_RATIO]] }];
  if (noise.noisy && noise.score !== null) return [{ family: 'other', tests: [['noise', noise.score, '≥', T.NOISY_FILTER_SCORE]] }];
  const colourful = colour.colourShare >= T.COLOUR_SHARE_MIN;
  const fits: FamilyReason[] = [];
  if (colourful && colour.chromaticOpponency >= T.COLOUR_OPPONENCY_MIN)
    fits.push({ family: 'colour-contrast', tests: [['colour', colour.colourShare, '≥', T.COLOUR_SHARE_MIN], ['opponency', colour.chromaticOpponency, '≥', T.COLOUR_OPPONENCY_MIN]] });
  if (spectrum.selectivity >= T.SELECTIVITY_MIN && (gabor === null || gabor.r2 >= T.GABOR_R2_MIN))
    fits.push({ family: 'edge', tests: [['selectivity', spectrum.selectivity, '≥', T.SELECTIVITY_MIN], ...(gabor ? [['gabor', gabor.r2, '≥', T.GABOR_R2_MIN] as FamilyReason['tests'][number]] : [])] });
  const round = radial.radialR2 >= T.RADIAL_R2_MIN;
  if (round && radial.surroundBalance >= T.SURROUND_BALANCE_MIN)
    fits.push({ family: 'centre-surround', tests: [['ring', radial.radialR2, '≥', T.RADIAL_R2_MIN], ['surround', radial.surroundBalance, '≥', T.SURROUND_BALANCE_MIN]] });
  if (spectrum.lowFrequencyShare >= T.BLOB_LOW_FREQUENCY_SHARE || (round && radial.surroundBalance < T.SURROUND_BALANCE_MIN))
    fits.push({
      family: colourful ? 'colour-blob' : 'grey-blob',
      tests: [
        spectrum.lowFrequencyShare >= T.BLOB_LOW_FREQUENCY_SHARE
          ? ['lowFrequency', spectrum.lowFrequencyShare, '≥', T.BLOB_LOW_FREQUENCY_SHARE]
          : ['surround', radial.surroundBalance, '<', T.SURROUND_BALANCE_MIN],
        ['colour', colour.colourShare, colourful ? '≥' : '<', T.COLOUR_SHARE_MIN],
      ],
    });
  const chosen = fits.find((fit) => fit.family === filter.family) ?? { family: filter.family, tests: [] };
  return [chosen, ...fits.filter((fit) => fit !== chosen)];
}
