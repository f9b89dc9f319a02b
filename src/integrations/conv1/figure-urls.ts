import { createHash } from 'node:crypto';

/**
 * Where each generated figure is published, relative to the site root (e.g.
 * _astro/conv1/grid-column-filter.Ab12Cd34Ef.png). The name carries a hash of the file's bytes,
 * so browsers and CDNs can cache it forever and two different figures never share a path.
 */
export function figurePaths(files: Map<string, Uint8Array>, assetsDir: string): Map<string, string> {
  const prefix = figureFolder(assetsDir);
  const paths = new Map<string, string>();
  for (const [name, bytes] of files) {
    const hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 10);
    const dot = name.lastIndexOf('.');
    paths.set(name, `${prefix}${name.slice(0, dot)}.${hash}${name.slice(dot)}`);
  }
  return paths;
}

/** The folder, relative to the site root, that holds every model's figures. */
export function figureFolder(assetsDir: string): string {
  return `${assetsDir.replace(/^\/|\/$/g, '')}/conv1/`;
}

/** The site's base path with exactly one trailing slash. */
export function basePath(base: string): string {
  return base.replace(/\/?$/, '/');
}
