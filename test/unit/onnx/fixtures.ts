/** The precision tests' generated MLP and seeded inputs (shared with the scripts). */
export { buildMlp, seededRandom, uniform, type MlpOptions } from '../../../scripts/lib/mlp-model.js';
