/**
 * Every threshold behind the filter diagnostics, exported so the docs can print them. "Measured"
 * numbers come from test/analyse: the real Keras ResNet50 conv1 (7×7×3×64) and a glorot-uniform random
 * initialisation of the same shape. Thresholds sit in the gaps between those controls, not on them.
 * Frequencies are in cycles/pixel; 0.5 is the Nyquist limit along an axis.
 */

/**
 * Energy above this radial frequency counts as high-frequency: half the Nyquist frequency, i.e.
 * stripes less than 4 pixels apart. White noise puts 1 − π/16 ≈ 80% of its energy above it
 * (measured on random init: 73–90%); half the ResNet50 conv1 filters put under 31% there, and its
 * sharpest Gabors, which sit almost wholly above, are explained by the Gabor fit and so are not noise.
 */
export const NOISE_CUTOFF = 0.25;

/**
 * A filter is "noisy" when at least this share of its energy is high-frequency AND unexplained by
 * its Gabor or ring model (its noise score). Measured: ResNet50 conv1 filters score 0.008–0.20,
 * random init (three seeds) 0.61–0.81; 0.35 leaves room on both sides.
 */
export const NOISY_FILTER_SCORE = 0.35;

/**
 * Layer verdict "noisy: looks untrained or under-regularised" when the median noise score of the
 * live filters reaches NOISY_FILTER_SCORE, i.e. when at least half the filters are noisy.
 * Layer verdict "trained-looking" needs a median below this: about four times ResNet50's median
 * (0.04) and a fifth of random init's (0.72), so moderate noise on a few filters does not spoil it.
 * ResNet50 conv1 plus Gaussian noise crosses it between 0.25 and 0.5 × the kernel's standard
 * deviation, when the weakest filters have drowned.
 */
export const TRAINED_MEDIAN_NOISE = 0.15;

/**
 * …and needs at least this share of live filters to be edge detectors (edge or colour-contrast),
 * the article's first rule of thumb. Distill counts 86% Gabor or colour-contrast filters in
 * InceptionV1's first layer; 30% still leaves room for nets that also learn many blobs.
 */
export const EDGE_SHARE_MIN = 0.3;

/**
 * A filter is dead when its L2 norm is below this fraction of the layer's median norm: it then holds
 * under 1/400 of a typical filter's energy. Weight decay shrinks filters that the loss does not use,
 * so unused filters end far below this while weak but used ones stay above (measured: ResNet50's
 * weakest filter is at 0.07 of the median and still clearly structured).
 */
export const DEAD_NORM_RATIO = 0.05;

/**
 * Two filters are near-duplicates when the cosine similarity of their weights is at least this, and
 * a negated pair when it is at most minus this: cos² = 0.64, so at least 64% of one filter's energy
 * lies along the other. Random filters of n weights have cosines of about ±1/√n (±0.08 for 7×7×3;
 * the largest of 2016 pairs ≈ 0.33), so 0.8 is not reached by chance. ResNet50 conv1 has 5 negated
 * pairs at −0.85 to −0.97 (ReLU networks learn such pairs: Shang et al. 2016; Distill's Gabor pairs).
 */
export const DUPLICATE_COSINE = 0.8;

/**
 * Oriented (edge/line) needs a spectral orientation selectivity of at least this. A first derivative
 * of a Gaussian, the most broadly tuned edge detector, scores 0.5 (its energy goes as cos² of the
 * angle); isotropic blobs and white noise score near 0 (measured: random init ≤ 0.18). ResNet50's
 * edge filters score 0.56–0.91.
 */
export const SELECTIVITY_MIN = 0.4;

/**
 * Oriented also needs the Gabor fit to explain at least this share of the filter's variance.
 * Measured on 7×7: random init ≤ 0.45 (nine parameters on 49 pixels fit some noise), ResNet50's
 * edge filters ≥ 0.95.
 */
export const GABOR_R2_MIN = 0.7;

/**
 * Smallest filter, in pixels, whose structure can be told from noise: the Gabor model has nine
 * parameters, and on fewer than 25 pixels it explains most of any pattern, noise included, while a
 * 3×3 edge detector is as high-frequency as noise. Smaller filters get no Gabor fit and no noise
 * score; they are sorted on their spectrum alone and their layer gets no noise verdict.
 */
export const STRUCTURE_MIN_PIXELS = 25;

/**
 * A filter is colourful when at least this share of its energy is orthogonal to the grey axis: more
 * colour than brightness. Note that white noise in three channels is 2/3 colour, so colour alone says
 * nothing about structure; the noise gate comes first.
 */
export const COLOUR_SHARE_MIN = 0.5;

/**
 * Colour contrast (one colour on one side, its opposite on the other) needs a chromatic opponency of
 * at least this: the colour's minority sign carries at least a third of the weight of the majority
 * sign. Measured: ResNet50's colour blobs 0–0.32, its colour-contrast filters 0.58–1.
 */
export const COLOUR_OPPONENCY_MIN = 0.5;

/**
 * Centre-surround and round blobs need a ring profile to explain at least this share of the
 * variance. Measured: ResNet50's centre-surround filters 0.69–0.87, random init ≤ 0.23; a difference
 * of Gaussians scores ≈ 1.
 */
export const RADIAL_R2_MIN = 0.6;

/**
 * Centre-surround needs a surround of opposite sign weighing at least this fraction of the centre.
 * Measured: ResNet50's centre-surround filters 0.37–0.94, its blobs ≤ 0.23.
 */
export const SURROUND_BALANCE_MIN = 0.3;

/**
 * A blob has at least this share of its energy below one cycle per filter width (1/7 cycle/pixel
 * for 7×7): it is mostly a smooth patch of one sign. Measured: ResNet50's blobs 0.42–0.80 (those
 * under 0.5 are round and caught by RADIAL_R2_MIN), its edge filters a median of 0.05 (low-frequency
 * edges up to 0.62 are caught as oriented first), random init ≤ 0.15 (the disc is 6% of the
 * frequency square).
 */
export const BLOB_LOW_FREQUENCY_SHARE = 0.5;

export const THRESHOLDS = {
  NOISE_CUTOFF,
  NOISY_FILTER_SCORE,
  TRAINED_MEDIAN_NOISE,
  EDGE_SHARE_MIN,
  DEAD_NORM_RATIO,
  DUPLICATE_COSINE,
  SELECTIVITY_MIN,
  GABOR_R2_MIN,
  STRUCTURE_MIN_PIXELS,
  COLOUR_SHARE_MIN,
  COLOUR_OPPONENCY_MIN,
  RADIAL_R2_MIN,
  SURROUND_BALANCE_MIN,
  BLOB_LOW_FREQUENCY_SHARE,
} as const;
