// The meeting web page: `/meet?meetingId=…#token=…`, its script and its style sheet.
// Public routes: the page holds no data; it signs in and talks to the API and the live
// socket like any other client.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Reply, Route } from '../http/router.ts';
import type { ApiRequest } from '../http/api-request.ts';
import { meetingBundle } from './bundle.ts';

const PAGE = fs.readFileSync(path.join(import.meta.dirname, 'meeting-page.html'), 'utf8');
const CSS = fs.readFileSync(path.join(import.meta.dirname, 'meeting-page.css'));
const CSS_VERSION = createHash('sha256').update(CSS).digest('base64url').slice(0, 16);
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/;

/** Versioned URLs never change content, so browsers may keep them; anything else is revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

function securityHeaders(request: ApiRequest): Record<string, string> {
  // Naming the socket's origin too: 'self' covers wss: only in browsers implementing CSP 3.
  const host = request.headers['host'];
  const socket = host && HOST.test(host) ? ` wss://${host}` : '';
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "media-src 'self' blob: mediastream:",
      `connect-src 'self'${socket}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'camera=(self), microphone=(self), display-capture=()',
  };
}

async function page(request: ApiRequest): Promise<Reply> {
  const { version } = await meetingBundle();
  const html = PAGE.replace('{{jsVersion}}', version).replace('{{cssVersion}}', CSS_VERSION);
  return {
    status: 200,
    raw: { contentType: 'text/html; charset=utf-8', body: html },
    headers: { ...securityHeaders(request), 'Cache-Control': REVALIDATE },
  };
}

async function script(request: ApiRequest): Promise<Reply> {
  const { js, version } = await meetingBundle();
  return {
    status: 200,
    raw: { contentType: 'text/javascript; charset=utf-8', body: js },
    headers: { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': request.query.v === version ? IMMUTABLE : REVALIDATE },
  };
}

function styleSheet(request: ApiRequest): Reply {
  return {
    status: 200,
    raw: { contentType: 'text/css; charset=utf-8', body: CSS },
    headers: { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': request.query.v === CSS_VERSION ? IMMUTABLE : REVALIDATE },
  };
}

export function webRoutes(): Route[] {
  return [
    { method: 'get', path: '/meet', public: true, handle: async ({ request }) => page(request) },
    { method: 'get', path: '/meet/app.js', public: true, handle: async ({ request }) => script(request) },
    { method: 'get', path: '/meet/app.css', public: true, handle: async ({ request }) => styleSheet(request) },
  ];
}
