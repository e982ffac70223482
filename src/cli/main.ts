#!/usr/bin/env node
// Entry point: run the CLI and exit with its code (0 success, 1 negative, 2 usage or I/O).
import { main } from './program.js';

process.exitCode = await main(process.argv);
