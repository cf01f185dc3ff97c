import { envName, OPTIONS } from './options.js';
import { TRITON_FLAGS } from './triton-flags.js';

/** What `nereid --help` prints: every option with its aliases, default and variable, then tritonserver's other flags and what each does here. */
export function usage(): string {
  const lines = OPTIONS.map((o) => {
    const names = [o.name, ...(o.aliases ?? [])].map((n) => `--${n}`).join(', ');
    const flag = `${names}${o.kind === 'bool' ? '[=true|false]' : ' <value>'}`;
    const extra = [o.defaultText !== undefined ? `default ${o.defaultText}` : '', envName(o)].filter(Boolean).join('; ');
    return `  ${flag}\n      ${o.description} (${extra})`;
  });
  const triton = [...TRITON_FLAGS.values()].map((f) => `  --${f.name}${f.kind === 'bool' ? '[=true|false]' : ' <value>'}\n      ${f.effect}`);
  return (
    `Usage: nereid --model-repository <dir> [options]\n` +
    `       nereid tritonserver <tritonserver's flags>   (a copied command line: the program name is skipped)\n\n` +
    `${lines.join('\n')}\n  --help, -h\n  --version\n\n` +
    `tritonserver's other flags, accepted so that Triton command lines start:\n${triton.join('\n')}\n`
  );
}
