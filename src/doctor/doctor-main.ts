import dotenv from 'dotenv';
import { runDoctor } from './run-doctor.js';

// `npm run doctor`: the same .env and environment `npm start` reads.
dotenv.config({ quiet: true });
const code = await runDoctor(process.env, (line) => process.stdout.write(`${line}\n`));
process.exit(code);
