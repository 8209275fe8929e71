// SMART App Launch, EHR launch: the EHR opens this page with iss (its FHIR
// base URL) and launch. The page discovers the EHR's authorization
// endpoints from iss/.well-known/smart-configuration, and sends the user
// to authorize with PKCE (S256); the EHR returns to index.html with a code.
"use strict";
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function launch() {
  const q = new URLSearchParams(location.search);
  const iss = q.get("iss"), launchCtx = q.get("launch");
  if (!iss || !launchCtx) throw new Error("This page is opened by the EHR with iss and launch parameters. / 本页面需由电子病历带iss与launch参数打开。");
  const conf = await (await fetch("/v1/smart/config")).json();
  const wk = await fetch(iss.replace(/\/$/, "") + "/.well-known/smart-configuration", { headers: { Accept: "application/json" } });
  if (!wk.ok) throw new Error("The EHR has no SMART configuration at " + iss);
  const smart = await wk.json();
  if (!(smart.code_challenge_methods_supported || []).includes("S256")) throw new Error("The EHR does not support PKCE S256.");
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const redirect = new URL("index.html", location.href).href;
  sessionStorage.setItem("smart:" + state, JSON.stringify({ iss, verifier, redirect, token: smart.token_endpoint, client: conf.client_id }));
  const auth = new URL(smart.authorization_endpoint);
  auth.search = new URLSearchParams({ response_type: "code", client_id: conf.client_id, redirect_uri: redirect, launch: launchCtx,
    scope: conf.scope, state, aud: iss, code_challenge: challenge, code_challenge_method: "S256" });
  location.assign(auth.href);
}
launch().catch((e) => { document.getElementById("status").textContent = String(e.message || e); });
