import * as path from 'node:path';

/** The package root (package.json, deploy/), whether this runs from source (cli/src) or from the build (dist/cli/src). */
const HERE = path.resolve(__dirname, '../..');
export const PACKAGE_ROOT = path.basename(HERE) === 'dist' ? path.dirname(HERE) : HERE;
