// Reading a directory file (or the `directory:` value of the config) with clear errors.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { formatZodIssues } from '../config/load.js';
import { directoryFileSchema, type DirectoryFile } from './model.js';

export class DirectoryError extends Error {}

export function parseDirectory(value: unknown, source: string): DirectoryFile {
  const parsed = directoryFileSchema.safeParse(value);
  if (!parsed.success) throw new DirectoryError(formatZodIssues(source, parsed.error));
  return parsed.data;
}

export function readDirectoryFile(file: string): DirectoryFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DirectoryError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new DirectoryError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseDirectory(raw, file);
}
