import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { ConfigError } from '../src/errors.ts';

test('defaults: ports 8000 and 8001 on loopback, ./data, the webcam, threshold 0.5', () => {
  const config = loadConfig({});
  assert.equal(config.REGISTRATION_PORT, 8000);
  assert.equal(config.RECOGNITION_PORT, 8001);
  assert.equal(config.HOST, '127.0.0.1');
  assert.equal(config.DATA_DIR, path.resolve('data'));
  assert.deepEqual(config.CAMERA, { kind: 'webcam' });
  assert.equal(config.MATCH_THRESHOLD, 0.5);
  assert.equal(config.ALLOW_PRIVATE_URLS, false);
  assert.equal(config.INFERENCE_BACKEND, 'auto');
});

test('CAMERA selects the webcam device, an ffmpeg input or a folder of frames', () => {
  assert.deepEqual(loadConfig({ CAMERA: 'webcam:/dev/video2' }).CAMERA, { kind: 'webcam', device: '/dev/video2' });
  assert.deepEqual(loadConfig({ CAMERA: 'ffmpeg:rtsp://cam.local:554/stream' }).CAMERA, { kind: 'ffmpeg', input: 'rtsp://cam.local:554/stream' });
  assert.deepEqual(loadConfig({ CAMERA: 'dir:frames' }).CAMERA, { kind: 'dir', folder: path.resolve('frames') });
  assert.equal(loadConfig({ ALLOW_PRIVATE_URLS: '1' }).ALLOW_PRIVATE_URLS, true);
});

test('a bad value is refused with the variable, the value and what is expected', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ REGISTRATION_PORT: 'eighty' }, /REGISTRATION_PORT="eighty"/],
    [{ RECOGNITION_PORT: '70000' }, /RECOGNITION_PORT="70000"/],
    [{ CAMERA: 'usb' }, /CAMERA="usb": expected webcam, webcam:<device>, ffmpeg:<input> or dir:<folder>/],
    [{ CAMERA: 'webcam:/dev/video0; rm -rf /' }, /CAMERA=.*may only contain/],
    [{ TIME_ZONE: 'Mars/Olympus' }, /TIME_ZONE="Mars\/Olympus": unknown IANA time zone/],
    [{ MATCH_THRESHOLD: '-1' }, /MATCH_THRESHOLD="-1"/],
    [{ ALLOW_PRIVATE_URLS: 'maybe' }, /ALLOW_PRIVATE_URLS="maybe"/],
    [{ INFERENCE_BACKEND: 'gpu' }, /INFERENCE_BACKEND="gpu": .*"onnx"\|"wasm"\|"auto"/],
    [{ INFERENCE_THREADS: '0' }, /INFERENCE_THREADS="0"/],
    [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY="maybe": must be true, false, or the proxies' addresses or ranges .*invalid IP address: maybe/],
    [{ TRUST_PROXY: '0.0.0.0/0' }, /TRUST_PROXY="0.0.0.0\/0": .*invalid range/],
    [{ TRUST_PROXY: '2' }, /TRUST_PROXY="2": .*a hop count is not supported/],
    [{ PRIVATE_URL_HOSTS: 'photos.lan,http://photos.lan/' }, /PRIVATE_URL_HOSTS="photos.lan,http:\/\/photos.lan\/": "http:\/\/photos.lan\/" is not a host name/],
    [{ PRIVATE_URL_HOSTS: 'photos.lan:8080' }, /is not a host name or IP address/],
    [{ PRIVATE_URL_HOSTS: 'photos.lan:80' }, /is not a host name or IP address/],
    [{ PRIVATE_URL_HOSTS: '*.school.lan' }, /is not a host name or IP address/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
  }
  const accepted = loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,loopback,fe80::/10,10.0.0.0/255.0.0.0', PRIVATE_URL_HOSTS: 'Photos.LAN,photo_server,127.1,[::1],fd00::5' });
  assert.deepEqual(accepted.TRUST_PROXY, ['10.0.0.0/8', '127.0.0.1', 'loopback', 'fe80::/10', '10.0.0.0/255.0.0.0']);
  assert.deepEqual(accepted.PRIVATE_URL_HOSTS, ['photos.lan', 'photo_server', '127.0.0.1', '::1', 'fd00::5'], 'as a photo URL\'s host reads, so that they match');
});

test('CAMERA_SIZE is WIDTHxHEIGHT within 160x120 to 3840x2160; anything else is refused by name', () => {
  assert.deepEqual(loadConfig({ CAMERA_SIZE: '1920x1080' }).CAMERA_SIZE, { width: 1920, height: 1080 });
  assert.equal(loadConfig({}).CAMERA_SIZE, undefined);
  for (const bad of ['1280', '1280x', '1280*720', '100x100', '7680x4320']) {
    assert.throws(() => loadConfig({ CAMERA_SIZE: bad }), (error) => error instanceof ConfigError && /CAMERA_SIZE/.test(error.message), bad);
  }
});

test('DATABASE_URL, ROOM and CLASS_ID are checked; a wrong DATABASE_URL or API key is refused without being repeated', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://school:pw@db.school.lan:5432/attendance', ROOM: 'room-101', CLASS_ID: '7-b' });
  assert.equal(config.DATABASE_URL, 'postgres://school:pw@db.school.lan:5432/attendance');
  assert.deepEqual([config.ROOM, config.CLASS_ID, config.MARK_QUEUE_LIMIT], ['room-101', '7-b', 10_000]);
  assert.equal(loadConfig({}).DATABASE_URL, undefined, 'without it, the JSON files');
  const refused = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    assert.fail(`accepted ${JSON.stringify(env)}`);
  };
  const badUrl = refused({ DATABASE_URL: 'mysql://school:s3cret@db/attendance' });
  assert.match(badUrl, /DATABASE_URL=\(hidden\): expected postgres:\/\//);
  assert.doesNotMatch(badUrl, /s3cret/);
  assert.doesNotMatch(refused({ API_KEY: 'short-secret' }), /short-secret/);
  assert.match(refused({ ROOM: 'room 101' }), /ROOM="room 101": may only contain/);
  assert.match(refused({ CLASS_ID: '../7-b' }), /CLASS_ID="..\/7-b": may only contain/);
});
