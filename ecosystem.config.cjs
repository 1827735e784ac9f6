// PM2 recipe (pm2 >= 5.3.1, installed with `npm install -g pm2`):
// `npm run build && pm2 start ecosystem.config.cjs`. A .cjs file loads on every Node version.
// Exactly one forked process: two Stream connections on one DingTalk app split the messages.
const path = require('node:path');

module.exports = {
  apps: [
    {
      name: 'dingtalk-assistant',
      script: 'dist/main.js',
      // The same V8 flags as `npm start` (a small heap keeps RSS near the live heap for months).
      node_args: require('./package.json').scripts.start.split(/\s+/).filter((t) => t.startsWith('--')),
      cwd: __dirname,
      exec_mode: 'fork',
      instances: 1,
      // The service calls process.send('ready') once HTTP listens and the store is open.
      wait_ready: true,
      listen_timeout: 20000,
      // PM2 sends SIGINT, then SIGKILL after kill_timeout; the graceful stop takes at most 8 s.
      kill_timeout: 10000,
      autorestart: true,
      // 78 = configuration error (src/exit-codes.ts): restarting cannot fix it, so PM2 stops the
      // app (`pm2 status` shows it stopped) and `pm2 logs` shows the message naming the variables.
      stop_exit_codes: [78],
      exp_backoff_restart_delay: 1000,
      max_memory_restart: '400M',
      out_file: path.join(__dirname, 'logs', 'out.log'),
      error_file: path.join(__dirname, 'logs', 'error.log'),
      merge_logs: true,
      env: { NODE_ENV: 'production' },
    },
  ],
};
