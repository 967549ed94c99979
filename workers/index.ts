// Worker-only entry point: the same as `ROLE=worker node dist/src/server.js`.
process.env.ROLE = 'worker';
await import('../src/server.js');
