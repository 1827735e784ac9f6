// Same PM2 recipe as ecosystem.config.cjs (the canonical file, which every Node version can load);
// PM2 reads this file's named `apps` export on Node >= 20.19.
import config from './ecosystem.config.cjs';

export const apps = config.apps;
