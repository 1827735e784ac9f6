// PM2 recipe for two instances on one Redis: `npm run build && pm2 start ecosystem.redis.config.cjs`.
// Put SESSION_STORAGE=redis://… in .env (README: 多实例部署). Both serve HTTP (nginx spreads
// /assistant/ask over ports 5001 and 5002); one of them holds the DingTalk Stream at a time and
// the other takes it over within REDIS_LEASE_SECONDS if it stops or dies.
// Upgrade without downtime: `pm2 reload dingtalk-assistant-a && pm2 reload dingtalk-assistant-b`.
const path = require('node:path');
const single = require('./ecosystem.config.cjs').apps[0];

/** The single-instance recipe (flags, wait_ready, kill_timeout, backoff) on its own port and logs. */
function instance(name, port) {
  return {
    ...single,
    name,
    exec_mode: 'fork',
    instances: 1,
    env: { ...single.env, PORT: String(port) },
    out_file: path.join(__dirname, 'logs', `${name}.out.log`),
    error_file: path.join(__dirname, 'logs', `${name}.error.log`),
  };
}

module.exports = {
  apps: [instance('dingtalk-assistant-a', 5001), instance('dingtalk-assistant-b', 5002)],
};
