using Microsoft.AspNetCore.Routing;

namespace Gateway.Admission.Pages;

/// <summary>
/// <c>GET /waiting-room/pow-worker.js</c>: the Web Worker in which the waiting-room page solves a proof-of-work
/// challenge (docs/API.md, "Proof of work"), so the page never freezes. It is told <c>{challenge, difficulty}</c>,
/// reports <c>{type: "progress", hashes}</c> about four times a second and answers <c>{type: "solved", nonce,
/// hashes, ms}</c>. It hashes with WebCrypto (<c>crypto.subtle.digest</c>), many digests in flight at once; where
/// WebCrypto is missing (a page served over plain http from a public address is not a secure context) it falls
/// back to a small SHA-256 of its own, which computes only the first word of the digest (enough for 32 bits).
/// Served from the gateway's own origin, it runs under the page's <c>worker-src 'self'</c>.
/// </summary>
internal static class ProofOfWorkWorker
{
    public const string Path = WaitingRoomPage.PathPrefix + "pow-worker.js";

    /// <summary>Digests in flight at once: each crypto.subtle call is a hand-off to another thread, and one at a time spends most of the time waiting (measured in docs/SECURITY.md).</summary>
    public const int Batch = 64;

    private static readonly string Script = $$"""
        'use strict';
        const BATCH = {{Batch}};
        const encoder = new TextEncoder();

        function leadingZeroBits(bytes) {
          let bits = 0;
          for (const b of bytes) {
            if (b !== 0) return bits + Math.clz32(b) - 24;
            bits += 8;
          }
          return bits;
        }

        async function solveWithWebCrypto(prefix, difficulty, progress) {
          for (let base = 0; ; base += BATCH) {
            const pending = [];
            for (let i = 0; i < BATCH; i++) pending.push(crypto.subtle.digest('SHA-256', encoder.encode(prefix + (base + i))));
            const digests = await Promise.all(pending);
            for (let i = 0; i < BATCH; i++) {
              if (leadingZeroBits(new Uint8Array(digests[i])) >= difficulty) return base + i;
            }
            progress(base + BATCH);
          }
        }

        // SHA-256 (FIPS 180-4) of an ASCII message, first 32-bit word of the digest only.
        const K = new Int32Array([
          0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
          0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
          0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
          0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
        const W = new Int32Array(64);
        function firstWord(bytes, length) {
          const total = ((length + 9 + 63) >> 6) << 6;
          bytes[length] = 0x80;
          bytes.fill(0, length + 1, total);
          const bits = length * 8;
          bytes[total - 4] = bits >>> 24; bytes[total - 3] = (bits >>> 16) & 255; bytes[total - 2] = (bits >>> 8) & 255; bytes[total - 1] = bits & 255;
          let h0 = 0x6a09e667, h1 = 0xbb67ae85 | 0, h2 = 0x3c6ef372, h3 = 0xa54ff53a | 0, h4 = 0x510e527f, h5 = 0x9b05688c | 0, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
          for (let at = 0; at < total; at += 64) {
            for (let i = 0; i < 16; i++) {
              const j = at + i * 4;
              W[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
            }
            for (let i = 16; i < 64; i++) {
              const x = W[i - 15], y = W[i - 2];
              W[i] = ((((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + W[i - 7] + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + W[i - 16]) | 0;
            }
            let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
            for (let i = 0; i < 64; i++) {
              const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
              const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
              h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
            }
            h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
          }
          return h0;
        }

        function solveWithScript(prefix, difficulty, progress) {
          const head = encoder.encode(prefix);
          const bytes = new Uint8Array(head.length + 32 + 72);
          bytes.set(head);
          for (let nonce = 0; ; nonce++) {
            const digits = String(nonce);
            let length = head.length;
            for (let i = 0; i < digits.length; i++) bytes[length++] = digits.charCodeAt(i);
            if (Math.clz32(firstWord(bytes, length)) >= difficulty) return nonce;
            if ((nonce & 4095) === 4095) progress(nonce + 1);
          }
        }

        self.onmessage = async (event) => {
          const { challenge, difficulty } = event.data || {};
          if (typeof challenge !== 'string' || !Number.isInteger(difficulty) || difficulty < 0 || difficulty > 32) {
            self.postMessage({ type: 'error' });
            return;
          }
          const started = performance.now();
          let reported = started;
          const progress = (hashes) => {
            const now = performance.now();
            if (now - reported >= 250) {
              reported = now;
              self.postMessage({ type: 'progress', hashes });
            }
          };
          const subtle = self.crypto && self.crypto.subtle;
          const nonce = subtle ? await solveWithWebCrypto(challenge + ':', difficulty, progress) : solveWithScript(challenge + ':', difficulty, progress);
          self.postMessage({ type: 'solved', nonce: String(nonce), hashes: nonce + 1, ms: performance.now() - started, webCrypto: !!subtle });
        };

        """;

    public static void Map(IEndpointRouteBuilder endpoints) => PageScript.Map(endpoints, Path, Script);
}
