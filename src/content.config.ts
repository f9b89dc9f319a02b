import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { z } from 'astro/zod';

/** The articles live in content/<lang>/<slug>.mdx; the same slug in both languages is one article. */
const articles = defineCollection({
  loader: glob({ pattern: '*/*.mdx', base: './content' }),
  schema: z.object({
    title: z.string(),
    description: z.string(),
    lang: z.enum(['ja', 'en']),
  }),
});

export const collections = { articles };
