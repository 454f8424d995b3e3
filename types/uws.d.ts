// Typings for the part of uWebSockets.js that Squared uses (the npm republish ships none).
declare module 'uWebSockets.js' {
  export interface HttpRequest {
    getHeader(lowerCaseKey: string): string;
    getParameter(index: number): string | undefined;
    getUrl(): string;
    getMethod(): string;
    getCaseSensitiveMethod(): string;
    getQuery(): string | undefined;
    forEach(cb: (key: string, value: string) => void): void;
    setYield(yield_: boolean): HttpRequest;
  }

  export interface HttpResponse {
    writeStatus(status: string): HttpResponse;
    writeHeader(key: string, value: string): HttpResponse;
    end(body?: string | ArrayBuffer | Uint8Array, closeConnection?: boolean): HttpResponse;
    onAborted(handler: () => void): HttpResponse;
    onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): HttpResponse;
    cork(cb: () => void): HttpResponse;
    close(): HttpResponse;
    /** Stops reading the request's body from the socket (backpressure), until resume(). */
    pause(): void;
    resume(): void;
    /** Writes a chunk of a body of `totalSize` bytes (setting Content-Length): [written whole, response done]. */
    tryEnd(chunk: ArrayBuffer | Uint8Array, totalSize: number): [boolean, boolean];
    getWriteOffset(): number;
    /** Called when the socket drained; return whether the retried write went through. */
    onWritable(handler: (offset: number) => boolean): HttpResponse;
    /** Ends a response without a body (HEAD), announcing `reportedContentLength`. */
    endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): HttpResponse;
    getRemoteAddressAsText(): ArrayBuffer;
    upgrade<T>(userData: T, secWebSocketKey: string, secWebSocketProtocol: string, secWebSocketExtensions: string, context: unknown): void;
  }

  export interface WebSocket<T> {
    send(message: string | ArrayBuffer | Uint8Array, isBinary?: boolean, compress?: boolean): number;
    end(code?: number, shortMessage?: string): void;
    close(): void;
    getBufferedAmount(): number;
    getRemoteAddressAsText(): ArrayBuffer;
    getUserData(): T;
    subscribe(topic: string): boolean;
    unsubscribe(topic: string): boolean;
    publish(topic: string, message: string | ArrayBuffer | Uint8Array, isBinary?: boolean, compress?: boolean): boolean;
    cork(cb: () => void): WebSocket<T>;
  }

  export interface WebSocketBehavior<T> {
    compression?: number;
    maxPayloadLength?: number;
    idleTimeout?: number;
    maxBackpressure?: number;
    closeOnBackpressureLimit?: boolean;
    sendPingsAutomatically?: boolean;
    upgrade?: (res: HttpResponse, req: HttpRequest, context: unknown) => void;
    open?: (ws: WebSocket<T>) => void;
    message?: (ws: WebSocket<T>, message: ArrayBuffer, isBinary: boolean) => void;
    drain?: (ws: WebSocket<T>) => void;
    close?: (ws: WebSocket<T>, code: number, message: ArrayBuffer) => void;
  }

  export type us_listen_socket = object;

  export interface TemplatedApp {
    get(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    post(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    put(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    del(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    head(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    patch(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    options(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    any(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
    ws<T>(pattern: string, behavior: WebSocketBehavior<T>): TemplatedApp;
    /** Called as HTTP connections open (count 1) and close (-1); not for WebSockets once upgraded. */
    filter(handler: (res: HttpResponse, count: number) => void): TemplatedApp;
    publish(topic: string, message: string | ArrayBuffer | Uint8Array, isBinary?: boolean, compress?: boolean): boolean;
    listen(host: string, port: number, cb: (listenSocket: us_listen_socket | false) => void): TemplatedApp;
    numSubscribers(topic: string): number;
    close(): TemplatedApp;
  }

  export interface AppOptions {
    key_file_name?: string;
    cert_file_name?: string;
    passphrase?: string;
  }

  export function App(options?: AppOptions): TemplatedApp;
  export function SSLApp(options: AppOptions): TemplatedApp;
  export function us_listen_socket_close(listenSocket: us_listen_socket): void;
  export function us_socket_local_port(listenSocket: us_listen_socket): number;
  export const SHARED_COMPRESSOR: number;
  export const DISABLED: number;
}
