import { models } from 'virtual:conv1';

/**
 * The models the gallery shows: every configured model but the training runs (models with
 * checkpoints), which belong to the article that follows them. Failed optional models stay, listed
 * with their reason.
 */
export function galleryModels() {
  return Object.values(models).filter((model) => model.error || !model.data.timeline);
}

/** The gallery's models that could be drawn. */
export function drawnGalleryModels() {
  return galleryModels().flatMap((model) => (model.error ? [] : [model]));
}
