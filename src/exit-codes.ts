/**
 * Exit codes with a meaning for whoever restarts the process. A configuration error cannot be
 * fixed by restarting, so it gets its own code (sysexits.h EX_CONFIG) and `ecosystem.config.cjs`
 * lists it in `stop_exit_codes`: PM2 stops the app instead of restarting it in a loop.
 */
export const EXIT_CONFIG_ERROR = 78;

/** Anything else that stops the service (start-up failed, crash): PM2 restarts it. */
export const EXIT_FAILURE = 1;
