// serve.mjs - starts and stops one porticod --demo for run.sh.
//   node serve.mjs start PORTICOD PLUGINS WORKDIR   -> WORKDIR/base_url, WORKDIR/pid
//   node serve.mjs stop WORKDIR
// A free loopback port is picked by binding port 0 first; the server gets
// its own data directory under WORKDIR and 20 s to answer /healthz.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { openSync, readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [cmd, ...args] = process.argv.slice(2);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

async function start(porticod, plugins, work) {
  const port = await freePort();
  const data = join(work, "data");
  mkdirSync(data, { recursive: true });
  const log = openSync(join(work, "porticod.log"), "a");
  const argv = ["--listen", `127.0.0.1:${port}`, "--data", data, "--demo", "--threads", "8"];
  if (existsSync(plugins)) argv.push("--plugins", plugins);
  const child = spawn(porticod, argv, {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, PORTICO_ADMIN_PASSWORD: "portico-admin" },
  });
  writeFileSync(join(work, "pid"), String(child.pid));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(base + "/readyz");
      if (r.ok) {
        writeFileSync(join(work, "base_url"), base);
        child.unref();
        console.log(`porticod --demo at ${base} (pid ${child.pid})`);
        return;
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  try { process.kill(child.pid, "SIGKILL"); } catch {}
  console.error(readFileSync(join(work, "porticod.log"), "utf8"));
  throw new Error("porticod did not become ready");
}

async function stop(work) {
  const f = join(work, "pid");
  if (!existsSync(f)) return;
  const pid = Number(readFileSync(f, "utf8"));
  try { process.kill(pid, "SIGTERM"); } catch { return; }
  for (let i = 0; i < 100; i++) {
    try { process.kill(pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 100));
  }
  try { process.kill(pid, "SIGKILL"); } catch {}
}

if (cmd === "start") await start(args[0], args[1], args[2]);
else if (cmd === "stop") await stop(args[0]);
else { console.error("usage: serve.mjs start|stop ..."); process.exit(2); }
