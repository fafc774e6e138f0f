/**
 * Regenerates .env.example and the configuration table in README.md from the env schema:
 * npm run env:docs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { envExample, envMarkdownTable } from '../src/config/env-docs';

const BEGIN = '<!-- env-table:begin -->';
const END = '<!-- env-table:end -->';

writeFileSync('.env.example', envExample());
const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf(BEGIN);
const end = readme.indexOf(END);
if (start < 0 || end < 0) throw new Error(`README.md lacks the ${BEGIN} … ${END} markers`);
writeFileSync(
  'README.md',
  readme.slice(0, start + BEGIN.length) + '\n' + envMarkdownTable() + '\n' + readme.slice(end),
);
console.log('wrote .env.example and the README configuration table');
