import type { FakeResponse } from './fake-http-server.js';

/**
 * DingTalk's answer when the app's token lacks a permission (reference: stream-and-robot §3.3,
 * §4): HTTP 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied` naming the scopes.
 * Inject it on a route (`server.inject({method, path, respond: permissionDenied(...)})`).
 */
export function permissionDenied(...requiredScopes: string[]): FakeResponse {
  return {
    status: 403,
    body: {
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requestid: `req-${Math.random().toString(16).slice(2)}`,
      message: '没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp/add-api-permission',
      accessdenieddetail: { requiredScopes },
    },
  };
}
