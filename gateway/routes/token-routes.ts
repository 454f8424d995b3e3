// The OAuth 2.0 endpoints: the token endpoint (RFC 6749) and token revocation (RFC 7009).
// Both are unauthenticated and take a form or JSON body; the people actor checks the body.
import type { Route } from '../http/router.ts';

// RFC 6749 section 5.1: responses carrying tokens must not be cached.
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function tokenRoutes(): Route[] {
  return [
    {
      method: 'post',
      path: '/v1/access_token',
      public: true,
      // The client's address is set here, after the body, so that a body cannot choose the
      // address its password attempts are counted under.
      handle: async (ctx) => ({
        status: 200,
        body: await ctx.call('people.issueToken', { ...ctx.body, clientAddress: ctx.request.remoteAddress }),
        headers: NO_STORE,
      }),
    },
    {
      method: 'post',
      path: '/v1/access_token/revoke',
      public: true,
      handle: async (ctx) => {
        await ctx.call('people.revokeToken', { token: ctx.body.token, token_type_hint: ctx.body.token_type_hint });
        return { status: 200, headers: NO_STORE };
      },
    },
  ];
}
