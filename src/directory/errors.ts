// The directory file's error, importable without the directory schema (see config/errors.ts).
export class DirectoryError extends Error {}
