/**
 * Checks the manifests under deploy/kubernetes and deploy/kserve offline, as CI does
 * (npm run check:manifests): every object against its schema, the kustomization against the
 * files beside it, and the objects against each other and against Nereid's own flags
 * (scripts/lib/manifest-checks.ts). Prints each error and exits 1 if there is any.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { consistencyErrors, schemaErrors, type Manifest } from './lib/manifest-checks.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FOLDERS = ['deploy/kubernetes', 'deploy/kserve'];

function readManifests(): { manifests: Manifest[]; errors: string[] } {
  const manifests: Manifest[] = [];
  const errors: string[] = [];
  for (const folder of FOLDERS) {
    for (const name of readdirSync(path.join(ROOT, folder)).filter((n) => n.endsWith('.yaml')).sort()) {
      const file = `${folder}/${name}`;
      for (const document of parseAllDocuments(readFileSync(path.join(ROOT, file), 'utf8'))) {
        if (document.errors.length > 0) errors.push(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
        const doc = document.toJS() as Record<string, unknown> | null;
        if (doc !== null) manifests.push({ file, doc });
      }
    }
  }
  return { manifests, errors };
}

/** The kustomization lists exactly the other manifests of its folder. */
function kustomizationErrors(manifests: readonly Manifest[]): string[] {
  const errors: string[] = [];
  for (const { file, doc } of manifests.filter((m) => m.doc['kind'] === 'Kustomization')) {
    const folder = path.dirname(file);
    const listed = new Set((doc['resources'] as string[]).map((r) => `${folder}/${r}`));
    const present = new Set(manifests.filter((m) => path.dirname(m.file) === folder && m.file !== file).map((m) => m.file));
    for (const r of listed) if (!present.has(r)) errors.push(`${file}: lists ${r}, which holds no manifest`);
    for (const p of present) if (!listed.has(p)) errors.push(`${file}: does not list ${p}`);
  }
  return errors;
}

const { manifests, errors } = readManifests();
errors.push(...manifests.flatMap(schemaErrors));
if (errors.length === 0) errors.push(...kustomizationErrors(manifests), ...consistencyErrors(manifests));
for (const error of errors) console.error(`  ${error}`);
if (errors.length > 0) {
  console.error(`${errors.length} problem(s) in deploy/ manifests`);
  process.exit(1);
}
const kinds = [...new Set(manifests.map((m) => m.doc['kind']))].join(', ');
console.log(`deploy/: ${manifests.length} objects valid and consistent (${kinds})`);
