// The per-user data directory shared by the app, `npm run serve`, `npm run cluster` and `npm run lab`
// (one definition: serve.ts's).
export { defaultDataDir } from '../serve';
