// Package browsertest starts headless Chromium for tests of the web pages
// (Debian's chromium; CI installs it). Without a browser the test is
// skipped, or fails when ORTHOCDS_REQUIRE_BROWSER is set, as CI sets it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Context returns a browser tab's context, closed when the test ends.
func Context(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if os.Getenv("ORTHOCDS_REQUIRE_BROWSER") != "" {
			t.Fatal("no chromium on PATH, and ORTHOCDS_REQUIRE_BROWSER is set")
		}
		t.Skip("no chromium on PATH (CI installs it: apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.WindowSize(1000, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel3)
	return ctx
}

// Artefact saves a screenshot (or any file) where CI keeps test
// artefacts: ORTHOCDS_TEST_ARTEFACTS, else the test's temporary directory.
// It returns the path written.
func Artefact(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("ORTHOCDS_TEST_ARTEFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
