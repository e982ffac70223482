// Reading a directory file (or the `directory:` value of the config) with clear errors.
import { formatZodIssues, readYamlFile } from '../config/load.js';
import { DirectoryError } from './errors.js';
import { directoryFileSchema, type DirectoryFile } from './model.js';

export { DirectoryError };

export function parseDirectory(value: unknown, source: string): DirectoryFile {
  const parsed = directoryFileSchema.safeParse(value);
  if (!parsed.success) throw new DirectoryError(formatZodIssues(source, parsed.error));
  return parsed.data;
}

export function readDirectoryFile(file: string): DirectoryFile {
  return parseDirectory(readYamlFile(file, (m) => new DirectoryError(m)), file);
}
