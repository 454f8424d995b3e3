#!/usr/bin/env node
// Smoke check of a mediasoup-worker binary (typically the one built by
// media/worker-build/build.sh against the Debian system libraries).
//
// Run it with Node 22 from the root of a project where mediasoup is installed:
//
//   node media/worker-build/smoke.mjs [path/to/mediasoup-worker]
//
// The binary is the argument, else $MEDIASOUP_WORKER_BIN, else mediasoup's
// default (node_modules/mediasoup/worker/out/Release/mediasoup-worker).
//
// It checks, failing with exit status 1 on the first problem:
//   1. a Worker starts; a Router with opus, VP8, VP9 and H264 is created;
//   2. a WebRtcTransport is created (ICE and DTLS parameters present);
//   3. ffmpeg sends an opus RTP stream into a PlainTransport (comedia,
//      rtcpMux: false, RTCP to the transport's RTCP port) and getStats() shows
//      the bytes arriving at the transport and the Producer;
//   4. SRTP: for each of the four crypto suites, the stream is consumed on one
//      PlainTransport and produced on another one, SRTP-protected between the
//      two (libsrtp2 protect and unprotect), and bytes arrive;
//   5. DTLS: a WebRtcTransport completes ICE (STUN sent from here) and a DTLS
//      handshake against `openssl s_server` (skipped if openssl is missing);
//   6. everything closes cleanly and the worker exits.
// ffmpeg must be installed (`npm test` installs it when it runs as root).

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { MEETING_CODECS } from '../codecs.ts';

const IP = '127.0.0.1';
const OPUS_SSRC = 22222222;
const OPUS_PT = 101;
const STREAM_SECONDS = 5;

const started = Date.now();
const log = (msg) => console.log(`[smoke +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const fail = (msg) => {
	throw new Error(msg);
};
const check = (cond, msg) => {
	if (!cond) fail(msg);
};

// Resolve mediasoup from the current directory (the project), not from this
// file's location.
const requireFromCwd = createRequire(path.join(process.cwd(), 'package.json'));
const mediasoup = requireFromCwd('mediasoup');

const workerBin = process.argv[2]
	? path.resolve(process.argv[2])
	: (process.env.MEDIASOUP_WORKER_BIN ?? mediasoup.workerBin);

const cleanups = [];

async function main() {
	log(`node ${process.version}, mediasoup ${mediasoup.version}`);
	log(`worker binary: ${workerBin}`);
	check(fs.existsSync(workerBin), `no worker binary at ${workerBin}`);
	ensureFfmpeg();

	// 1. Worker and Router.
	const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
	let workerDied = null;
	const death = new Promise((_resolve, reject) =>
		worker.on('died', (error) => {
			workerDied = error;
			reject(new Error(`worker died: ${error.message}`));
		})
	);
	death.catch(() => {});
	log(`Worker pid ${worker.pid}`);

	// The codecs Squared's meetings use.
	const router = await worker.createRouter({ mediaCodecs: MEETING_CODECS });
	const codecs = router.rtpCapabilities.codecs.map((c) => c.mimeType).filter((m) => !m.endsWith('/rtx'));
	log(`Router ${router.id} codecs: ${codecs.join(', ')}`);
	for (const m of ['audio/opus', 'video/VP8', 'video/VP9', 'video/H264']) {
		check(codecs.includes(m), `router lacks ${m}`);
	}

	// 2. WebRtcTransport.
	const webRtcTransport = await router.createWebRtcTransport({
		listenInfos: [
			{ protocol: 'udp', ip: IP },
			{ protocol: 'tcp', ip: IP },
		],
	});
	check(webRtcTransport.iceParameters.usernameFragment, 'no ICE usernameFragment');
	check(webRtcTransport.iceCandidates.length === 2, 'expected 2 ICE candidates');
	check(webRtcTransport.dtlsParameters.fingerprints.length > 0, 'no DTLS fingerprints');
	log(
		`WebRtcTransport ${webRtcTransport.id}: ` +
			webRtcTransport.iceCandidates.map((c) => `${c.protocol}/${c.port}`).join(' ') +
			`, ${webRtcTransport.dtlsParameters.fingerprints.length} DTLS fingerprints`
	);

	// 3. PlainTransport fed by ffmpeg.
	const plain = await router.createPlainTransport({
		listenInfo: { protocol: 'udp', ip: IP },
		rtcpMux: false,
		comedia: true,
	});
	log(`PlainTransport ${plain.id}: RTP ${plain.tuple.localPort}, RTCP ${plain.rtcpTuple.localPort}`);
	const producer = await plain.produce({
		kind: 'audio',
		rtpParameters: {
			codecs: [
				{
					mimeType: 'audio/opus',
					payloadType: OPUS_PT,
					clockRate: 48000,
					channels: 2,
					parameters: { 'sprop-stereo': 1 },
				},
			],
			encodings: [{ ssrc: OPUS_SSRC }],
		},
	});

	// 4. SRTP pairs, set up before the stream starts so that they carry it.
	const srtpPairs = [];
	for (const suite of [
		'AEAD_AES_256_GCM',
		'AEAD_AES_128_GCM',
		'AES_CM_128_HMAC_SHA1_80',
		'AES_CM_128_HMAC_SHA1_32',
	]) {
		const opts = { listenInfo: { protocol: 'udp', ip: IP }, enableSrtp: true, srtpCryptoSuite: suite };
		const sending = await router.createPlainTransport(opts);
		const receiving = await router.createPlainTransport(opts);
		await sending.connect({
			ip: IP,
			port: receiving.tuple.localPort,
			srtpParameters: receiving.srtpParameters,
		});
		await receiving.connect({
			ip: IP,
			port: sending.tuple.localPort,
			srtpParameters: sending.srtpParameters,
		});
		const consumer = await sending.consume({
			producerId: producer.id,
			rtpCapabilities: router.rtpCapabilities,
		});
		const srtpProducer = await receiving.produce({
			kind: 'audio',
			rtpParameters: consumer.rtpParameters,
		});
		srtpPairs.push({ suite, sending, receiving, srtpProducer });
	}

	const ffmpegArgs = [
		'-hide_banner',
		'-loglevel',
		'error',
		'-re',
		'-f',
		'lavfi',
		'-i',
		`sine=frequency=440:sample_rate=48000:duration=${STREAM_SECONDS}`,
		'-ac',
		'2',
		'-c:a',
		'libopus',
		'-b:a',
		'64k',
		'-payload_type',
		String(OPUS_PT),
		'-ssrc',
		String(OPUS_SSRC),
		'-f',
		'rtp',
		`rtp://${IP}:${plain.tuple.localPort}?rtcpport=${plain.rtcpTuple.localPort}&pkt_size=1200`,
	];
	log(`ffmpeg ${ffmpegArgs.join(' ')}`);
	const ffmpeg = spawn('ffmpeg', ffmpegArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
	cleanups.push(() => ffmpeg.exitCode === null && ffmpeg.kill('SIGKILL'));
	const ffmpegExit = new Promise((resolve) => ffmpeg.on('exit', (code) => resolve(code)));

	// 5. DTLS while the stream flows.
	await dtlsCheck(webRtcTransport, death);

	const ffmpegCode = await ffmpegExit;
	check(ffmpegCode === 0, `ffmpeg exited with ${ffmpegCode}`);
	await sleep(300);

	const [transportStats] = await plain.getStats();
	const producerStats = await producer.getStats();
	const inbound = producerStats.find((s) => s.type === 'inbound-rtp');
	log(
		`PlainTransport stats: bytesReceived=${transportStats.bytesReceived} ` +
			`rtpBytesReceived=${transportStats.rtpBytesReceived} ` +
			`tuple=${plain.tuple.remoteIp}:${plain.tuple.remotePort} ` +
			`rtcpTuple=${plain.rtcpTuple?.remoteIp}:${plain.rtcpTuple?.remotePort}`
	);
	check(transportStats.rtpBytesReceived > 0, 'PlainTransport received no RTP bytes');
	check(inbound, 'Producer has no inbound-rtp stats');
	log(
		`Producer stats: ssrc=${inbound.ssrc} mimeType=${inbound.mimeType} ` +
			`packetCount=${inbound.packetCount} byteCount=${inbound.byteCount} ` +
			`packetsLost=${inbound.packetsLost}`
	);
	check(inbound.ssrc === OPUS_SSRC && inbound.byteCount > 0, 'Producer received no opus bytes');

	for (const { suite, receiving, srtpProducer } of srtpPairs) {
		const [ts] = await receiving.getStats();
		const ps = (await srtpProducer.getStats()).find((s) => s.type === 'inbound-rtp');
		log(
			`SRTP ${suite}: receiving transport rtpBytesReceived=${ts.rtpBytesReceived}, ` +
				`producer byteCount=${ps?.byteCount ?? 0}`
		);
		check(ps && ps.byteCount > 0, `SRTP ${suite}: nothing decrypted`);
	}

	// 6. Close.
	check(!workerDied, `worker died: ${workerDied}`);
	const subprocessClosed = new Promise((resolve) => worker.once('subprocessclose', () => resolve('closed')));
	worker.close();
	const outcome = await Promise.race([subprocessClosed, sleep(5000).then(() => 'timeout')]);
	check(worker.closed && router.closed && plain.closed, 'objects not closed');
	check(outcome === 'closed', 'worker subprocess did not exit within 5 s');
	let alive = true;
	try {
		process.kill(worker.pid, 0);
	} catch {
		alive = false;
	}
	check(!alive, `worker pid ${worker.pid} still alive`);
	log(`closed: worker subprocess ${worker.pid} exited, died=${worker.died}`);
}

// ffmpeg is used as the RTP source.
function ensureFfmpeg() {
	check(spawnSync('ffmpeg', ['-version']).status === 0, 'ffmpeg is missing: sudo apt-get install ffmpeg');
}

// ICE from this process (a STUN Binding request as a controlling peer), then
// DTLS with the worker as client and `openssl s_server` as server, relayed
// through this process's UDP socket. This is the code path that crashed in
// libssl without patch 0004.
async function dtlsCheck(transport, death) {
	if (spawnSync('openssl', ['version']).status !== 0) {
		log('DTLS: skipped, no openssl binary');
		return;
	}
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-smoke-'));
	cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
	const cert = path.join(dir, 'cert.pem');
	const key = path.join(dir, 'key.pem');
	const gen = spawnSync('openssl', [
		'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
		'-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=smoke',
	]);
	check(gen.status === 0, `openssl req failed: ${gen.stderr}`);
	const fingerprint = new crypto.X509Certificate(fs.readFileSync(cert)).fingerprint256;

	const serverPort = await freeUdpPort();
	const server = spawn(
		'openssl',
		['s_server', '-dtls1_2', '-accept', String(serverPort), '-cert', cert, '-key', key,
			'-use_srtp', 'SRTP_AES128_CM_SHA1_80', '-quiet'],
		{ stdio: ['pipe', 'ignore', 'ignore'] }
	);
	cleanups.push(() => server.exitCode === null && server.kill('SIGKILL'));
	await sleep(300);

	const udp = transport.iceCandidates.find((c) => c.protocol === 'udp');
	const sock = dgram.createSocket('udp4');
	cleanups.push(() => sock.close());
	await new Promise((resolve) => sock.bind(0, IP, resolve));
	// Relay: worker <-> this socket <-> openssl s_server.
	sock.on('message', (msg, rinfo) => {
		if (rinfo.port === serverPort) sock.send(msg, udp.port, IP);
		else if (rinfo.port === udp.port && msg[0] >= 20 && msg[0] <= 63) sock.send(msg, serverPort, IP);
	});

	const connected = new Promise((resolve, reject) => {
		transport.on('dtlsstatechange', (state) => {
			if (state === 'connected') resolve();
			else if (state === 'failed' || state === 'closed') reject(new Error(`DTLS ${state}`));
		});
	});
	connected.catch(() => {});
	const { usernameFragment, password } = transport.iceParameters;
	sock.send(stunBindingRequest(`${usernameFragment}:smoke`, password), udp.port, IP);
	await transport.connect({
		dtlsParameters: { role: 'server', fingerprints: [{ algorithm: 'sha-256', value: fingerprint }] },
	});
	await Promise.race([
		connected,
		death,
		sleep(10000).then(() => fail(`DTLS: no handshake (ice ${transport.iceState}, dtls ${transport.dtlsState})`)),
	]);
	log(`DTLS: ice ${transport.iceState}, dtls ${transport.dtlsState} (worker as client, openssl s_server as server)`);
}

function stunBindingRequest(username, password) {
	const attr = (type, value) => {
		const header = Buffer.alloc(4);
		header.writeUInt16BE(type, 0);
		header.writeUInt16BE(value.length, 2);
		const padding = Buffer.alloc((4 - (value.length % 4)) % 4);
		return Buffer.concat([header, value, padding]);
	};
	const u32 = (n) => {
		const b = Buffer.alloc(4);
		b.writeUInt32BE(n >>> 0, 0);
		return b;
	};
	const header = Buffer.alloc(20);
	header.writeUInt16BE(0x0001, 0); // Binding request
	header.writeUInt32BE(0x2112a442, 4); // magic cookie
	crypto.randomBytes(12).copy(header, 8);
	let body = Buffer.concat([
		attr(0x0006, Buffer.from(username)), // USERNAME
		attr(0x0024, u32(0x6e7f00ff)), // PRIORITY
		attr(0x802a, crypto.randomBytes(8)), // ICE-CONTROLLING
		attr(0x0025, Buffer.alloc(0)), // USE-CANDIDATE
	]);
	// MESSAGE-INTEGRITY: HMAC-SHA1 over the message, length covering it.
	header.writeUInt16BE(body.length + 24, 2);
	const hmac = crypto.createHmac('sha1', password).update(Buffer.concat([header, body])).digest();
	body = Buffer.concat([body, attr(0x0008, hmac)]);
	// FINGERPRINT: CRC-32 XOR 0x5354554e, length covering it.
	header.writeUInt16BE(body.length + 8, 2);
	const crc = (zlib.crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0;
	body = Buffer.concat([body, attr(0x8028, u32(crc))]);
	return Buffer.concat([header, body]);
}

async function freeUdpPort() {
	const s = dgram.createSocket('udp4');
	await new Promise((resolve) => s.bind(0, IP, resolve));
	const { port } = s.address();
	await new Promise((resolve) => s.close(resolve));
	return port;
}

try {
	await main();
	log('SMOKE OK');
} catch (error) {
	console.error(`[smoke] FAILED: ${error.message}`);
	process.exitCode = 1;
} finally {
	for (const fn of cleanups.reverse()) {
		try {
			fn();
		} catch {}
	}
	// Exit even if a failed check left the worker or ffmpeg running.
	setTimeout(() => process.exit(), 500).unref();
}
