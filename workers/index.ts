import { start } from '../src/start.js';

// Worker-only entry point: the same as `ROLE=worker node dist/src/server.js`.
start('worker');
