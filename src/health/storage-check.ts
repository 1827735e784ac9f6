import type { Logger } from '../logger.js';
import { openStorage, type Storage } from '../storage/open-storage.js';
import { redactRedisUrl } from '../storage/redis/redis-url.js';
import { failed, passed, type CheckResult } from './check-result.js';

const STORAGE_FIX = {
  zh: '检查 SESSION_STORAGE 指向的文件夹是否存在且本服务的用户可写（磁盘也不能满）',
  en: 'Check that the folder SESSION_STORAGE points to exists and is writable by the service user (and the disk is not full)',
};

const REDIS_FIX = {
  zh: '检查 Redis 是否在运行、SESSION_STORAGE 中的地址和密码是否正确、本机能否连到 Redis',
  en: 'Check that Redis is running, that the address and password in SESSION_STORAGE are right, and that this host can reach it',
};

const fixFor = (url: string) => (/^rediss?:\/\//.test(url) ? REDIS_FIX : STORAGE_FIX);

/**
 * The store SESSION_STORAGE names can be opened and written (doctor: opened and closed again,
 * beside the service if it runs: no one-process lock). A Redis password is never shown.
 */
export async function checkStorageUrl(url: string, logger: Logger, redis?: { keyPrefix: string; leaseMs: number }): Promise<CheckResult> {
  let storage: Storage | undefined;
  const shown = redactRedisUrl(url);
  try {
    storage = await openStorage({ url, ledgerTtlMs: 60_000, logger, instanceLock: false, ...redis });
    await storage.checkWritable();
    return passed(shown);
  } catch (err) {
    return failed({ zh: `无法写入存储 ${shown}：${String(err)}`, en: `cannot write the storage ${shown}: ${String(err)}` }, fixFor(url));
  } finally {
    await storage?.close();
  }
}

/** The open store still takes a write (a full disk or a changed permission shows here). */
export async function checkStorage(storage: Storage, url: string): Promise<CheckResult> {
  const shown = redactRedisUrl(url);
  try {
    await storage.checkWritable();
    return passed(shown);
  } catch (err) {
    return failed({ zh: `无法写入存储 ${shown}：${String(err)}`, en: `cannot write the storage ${shown}: ${String(err)}` }, fixFor(url));
  }
}
