import type { Logger } from '../logger.js';
import { openStorage, type Storage } from '../storage/open-storage.js';
import { failed, passed, type CheckResult } from './check-result.js';

const STORAGE_FIX = {
  zh: '检查 SESSION_STORAGE 指向的文件夹是否存在且本服务的用户可写（磁盘也不能满）',
  en: 'Check that the folder SESSION_STORAGE points to exists and is writable by the service user (and the disk is not full)',
};

/** The store SESSION_STORAGE names can be opened and written (doctor: opened and closed again). */
export async function checkStorageUrl(url: string, logger: Logger): Promise<CheckResult> {
  let storage: Storage | undefined;
  try {
    storage = await openStorage({ url, ledgerTtlMs: 60_000, logger });
    await storage.checkWritable();
    return passed(url);
  } catch (err) {
    return failed({ zh: `无法写入存储 ${url}：${String(err)}`, en: `cannot write the storage ${url}: ${String(err)}` }, STORAGE_FIX);
  } finally {
    await storage?.close();
  }
}

/** The open store still takes a write (a full disk or a changed permission shows here). */
export async function checkStorage(storage: Storage, url: string): Promise<CheckResult> {
  try {
    await storage.checkWritable();
    return passed(url);
  } catch (err) {
    return failed({ zh: `无法写入存储 ${url}：${String(err)}`, en: `cannot write the storage ${url}: ${String(err)}` }, STORAGE_FIX);
  }
}
