import { getModel, lang as configuredLang } from 'virtual:conv1';
import { langOf, strings, type ColourMapping, type Lang } from './i18n.ts';

/** Props every component takes. */
export interface ModelProps {
  /** A model configured in conv1(): "default" (the top-level one) or a name under `models`. */
  model?: string;
  /** The language of the component's text (ja or en); by default the page's. */
  lang?: string;
}

/** What a component needs to know of the page it is on. */
interface Page {
  props: { lang?: string | undefined };
  currentLocale: string | undefined;
  locals: unknown;
}

/**
 * The page's language: the `lang` prop, else the locale of Astro's i18n routing, else the page's
 * Starlight locale, else the integration's `lang` option; English for anything but Japanese.
 */
export function pageLang(page: Page): Lang {
  const starlight = (page.locals as { starlightRoute?: { lang?: string } } | undefined)?.starlightRoute?.lang;
  return langOf(page.props.lang ?? page.currentLocale ?? starlight ?? configuredLang);
}

/** The model a component shows, in the page's language, with the id prefix that keeps two models' elements apart. */
export function componentContext(page: Page & { props: ModelProps }) {
  const model = getModel(page.props.model);
  const lang = pageLang(page);
  // Depthwise kernels arrive as single-channel filters, drawn in grey like any one-channel kernel.
  const colours: ColourMapping = model.data.model.shape[2] === 1 ? 'grey' : model.data.model.channelOrder;
  return { model, data: model.data, figureUrl: model.figureUrl, lang, t: strings[lang], colours, idPrefix: model.name === 'default' ? '' : `${model.name}-` };
}
