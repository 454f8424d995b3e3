// The REST conventions of Webex in one place: which part of the request becomes the
// action's parameters, 200 for creates, 204 for deletes, `max` paging with one Link header.
import { HttpError } from '../http/http-errors.ts';
import type { Reply, Route, RouteContext } from '../http/router.ts';

interface Page {
  items: unknown[];
  next?: string;
  /** Fields of the answer beside `items` (a Squared extension's, e.g. search's `indexBehind`). */
  extra?: Record<string, unknown>;
}

/**
 * The path's ids. One of only white space (`/v1/messages/%0D`) names nothing: 404, as for any
 * id that does not exist, not the 400 the actions' trimmed id rule would answer.
 */
function pathParams(ctx: RouteContext): Record<string, string> {
  for (const value of Object.values(ctx.request.params)) if (value.trim() === '') throw new HttpError(404, 'The requested resource could not be found.');
  return ctx.request.params;
}

export const fromQuery = (ctx: RouteContext) => ({ ...ctx.request.query, ...pathParams(ctx) });
export const fromBody = (ctx: RouteContext) => ({ ...withoutNulls(ctx.body), ...pathParams(ctx) });
/**
 * A create's or update's parameters: the body, and the query string as `query`, apart, so
 * that no query parameter can stand in for a body field; an action that declares `query`
 * validates Webex's write options there (people's callingData, minResponse), others drop it.
 */
export const fromWrite = (ctx: RouteContext) => ({ ...fromBody(ctx), query: ctx.request.query });

/**
 * A top-level field sent as `null` is treated as absent (the README's Webex conventions):
 * Webex's schemas have no nullable fields, and clients send `null` for "no value".
 */
export function withoutNulls(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}

interface ListOptions {
  /** A listing that takes its filters in a body (a Webex "query" endpoint) is a POST. */
  method?: 'get' | 'post';
  /** What the gateway adds to each item (e.g. links to itself). */
  present?: (ctx: RouteContext, item: never) => unknown;
}

export function listRoute(path: string, action: string, { method = 'get', present }: ListOptions = {}): Route {
  return {
    method,
    path,
    async handle(ctx): Promise<Reply> {
      const page = await ctx.call<Page>(action, method === 'get' ? fromQuery(ctx) : { ...ctx.request.query, ...withoutNulls(ctx.body) });
      const headers: Record<string, string> = {};
      if (page.next) headers.Link = `<${ctx.url(ctx.request.path, { ...ctx.request.query, cursor: page.next })}>; rel="next"`;
      const items = present ? page.items.map((item) => present(ctx, item as never)) : page.items;
      return { status: 200, body: { items, ...page.extra }, headers };
    },
  };
}

export function getRoute(path: string, action: string): Route {
  return { method: 'get', path, handle: async (ctx) => ({ status: 200, body: await ctx.call(action, fromQuery(ctx)) }) };
}

/** `status`: Webex answers 200 to a create, except where the spec says otherwise (202 for an attachment action). */
export function createRoute(path: string, action: string, status = 200): Route {
  return { method: 'post', path, handle: async (ctx) => ({ status, body: await ctx.call(action, fromWrite(ctx)) }) };
}

export function updateRoute(path: string, action: string): Route {
  return { method: 'put', path, handle: async (ctx) => ({ status: 200, body: await ctx.call(action, fromWrite(ctx)) }) };
}

export function deleteRoute(path: string, action: string): Route {
  return {
    method: 'delete',
    path,
    async handle(ctx) {
      await ctx.call(action, fromQuery(ctx));
      return { status: 204 };
    },
  };
}

/** The five routes of a Webex resource collection. */
export function resourceRoutes(collection: string, idParam: string, service: string, actions: { list: string; create: string; get: string; update: string; remove: string }): Route[] {
  const item = `${collection}/:${idParam}`;
  return [
    listRoute(collection, `${service}.${actions.list}`),
    createRoute(collection, `${service}.${actions.create}`),
    getRoute(item, `${service}.${actions.get}`),
    updateRoute(item, `${service}.${actions.update}`),
    deleteRoute(item, `${service}.${actions.remove}`),
  ];
}
