// readEvents reads a server-sent-events response from /v1/ask and calls
// on(type, data) for each event, data parsed from JSON. Shared by the
// question page and the sidebar.
"use strict";
async function readEvents(resp, on) {
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const type = (block.match(/^event: (.*)$/m) || [])[1];
      on(type, JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "null"));
    }
  }
}
