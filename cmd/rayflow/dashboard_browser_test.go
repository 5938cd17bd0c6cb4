package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rayflow/rayflow/internal/testutil"
)

// browserRequiredEnv, set to 1 (as .ci/run does), makes a machine
// without chromium fail the browser test instead of skipping it.
const browserRequiredEnv = "RAYFLOW_REQUIRE_BROWSER"

// screenshotDirEnv names a directory the browser test also saves its
// screenshots to (besides its own temporary directory).
const screenshotDirEnv = "RAYFLOW_SCREENSHOT_DIR"

// findChromium is the path of a Chromium or Chrome to drive, "" when
// there is none.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The dashboard as a person sees it, in a real (headless) Chromium,
// against a real head and node: logging in with /?token= shows both
// nodes; a job submitted with the page's form appears in the job list,
// succeeds and shows its printed lines (its HTML-looking output as
// text, not as markup); a long job shows RUNNING and its log while it
// runs, and its Stop button stops it (STOPPED). Screenshots are saved.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and a browser")
	}
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv(browserRequiredEnv) == "1" {
			t.Fatalf("no chromium on PATH and %s=1: install it (apt-get install chromium)", browserRequiredEnv)
		}
		t.Skipf("no chromium on PATH: the dashboard's browser test needs it (apt-get install chromium); %s=1 makes this a failure", browserRequiredEnv)
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, web := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	token := "dashboard-test-token-0123456789abcdef"
	tokenFile := writeTokenFile(t, token)
	startHead(t, bin, "--port", fmt.Sprint(hp), "--http-port", fmt.Sprint(web), "--cpus", "1", "--node-id", "head",
		"--token-file", tokenFile)
	startProc(t, bin, "start", "--address", head, "--cpus", "1", "--node-id", "worker-1", "--token-file", tokenFile)

	b := openBrowser(t, chromium)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(fmt.Sprintf("http://127.0.0.1:%d/?token=%s", web, token))); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	b.waitFor("the login to leave the token out of the address", `location.search === "" && document.title === "rayflow dashboard"`)
	b.waitFor("both nodes listed, alive", `(() => {
		const rows = [...document.querySelectorAll("#nodes tr")];
		const alive = (id) => rows.some((r) => r.dataset.node === id && r.textContent.includes("ALIVE") && r.textContent.includes("1 / 1"));
		return rows.length === 2 && alive("head") && alive("worker-1");
	})()`)

	// A job through the form: it appears, succeeds and shows its log.
	quick := "task square(x: int) -> int { return x * x }\n" +
		"pipeline main(n: int = 3) {\n" +
		"    print(\"hello from the dashboard\")\n" +
		"    print(\"<b id=injected>not markup</b>\")\n" +
		"    print(\"sum of squares\", sum(get([square(i) for i in range(n)])))\n" +
		"    return n\n}\n"
	b.submit(quick, "n=4")
	b.waitFor("the submitted job selected and in the job list", `(() => {
		const id = document.getElementById("job-id").textContent;
		return id.startsWith("rfjob_") && !document.getElementById("job-section").hidden &&
			[...document.querySelectorAll("#jobs tr")].some((r) => r.dataset.job === id);
	})()`)
	b.waitFor("the job SUCCEEDED with its log and result", `(() => {
		const log = document.getElementById("log").textContent;
		return document.getElementById("job-status").textContent === "SUCCEEDED" &&
			log.includes("hello from the dashboard\n") && log.includes("sum of squares 14\n") &&
			document.getElementById("job-result").textContent === "4";
	})()`)
	b.waitFor("the job's tasks by state and its timeline, from the state API", `(() => {
		const tasks = document.getElementById("job-tasks").textContent;
		const timeline = document.getElementById("timeline").textContent;
		return tasks.includes("square") && tasks.includes("FINISHED") && !tasks.includes("not available") &&
			timeline.includes("square") && !timeline.includes("not available");
	})()`)
	if injected := b.eval(`document.getElementById("injected") === null && document.getElementById("log").textContent.includes("<b id=injected>not markup</b>")`); injected != "true" {
		t.Errorf("a job's output was rendered as HTML, not as text")
	}

	// A long job: RUNNING with its log while it runs, then stopped with
	// its Stop button.
	b.submit("task nap() { time.sleep(300) }\npipeline main() {\n    print(\"started napping\")\n    get(nap())\n}\n", "")
	b.waitFor("the long job RUNNING with its first line logged", `(() => {
		const id = document.getElementById("job-id").textContent;
		const row = [...document.querySelectorAll("#jobs tr")].find((r) => r.dataset.job === id);
		return document.getElementById("job-status").textContent === "RUNNING" && row && row.textContent.includes("RUNNING") &&
			document.getElementById("log").textContent.includes("started napping") &&
			!document.getElementById("job-stop").hidden;
	})()`)
	b.waitFor("a CPU busy in the header", `document.getElementById("summary").textContent.includes("1 / 2CPUs busy")`)
	b.screenshot("dashboard-running.png")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("job-stop"))); err != nil {
		t.Fatalf("clicking Stop: %v", err)
	}
	b.waitFor("the long job STOPPED, in its pane and the job list, its log kept", `(() => {
		const id = document.getElementById("job-id").textContent;
		const row = [...document.querySelectorAll("#jobs tr")].find((r) => r.dataset.job === id);
		const log = document.getElementById("log").textContent;
		return document.getElementById("job-status").textContent === "STOPPED" && row && row.textContent.includes("STOPPED") &&
			log.includes("started napping") && log.includes("[the job was stopped]") && document.getElementById("job-stop").hidden;
	})()`)
	b.waitFor("the CPU free again", `document.getElementById("summary").textContent.includes("0 / 2CPUs busy")`)
	// A refresh that threw (a rendering bug) would have said so here.
	b.waitFor("the page refreshing without errors", `document.getElementById("conn").className === "conn ok"`)
	b.screenshot("dashboard.png")
}

// browser is a headless Chromium tab that a test drives.
type browser struct {
	t    *testing.T
	ctx  context.Context
	logs *testutil.Buffer // chromedp's messages
}

// browserWait bounds each wait for something on the page: generous for
// a loaded machine; the whole test usually takes a few seconds.
const browserWait = 30 * time.Second

// openBrowser starts a headless Chromium (chromium's own output goes to
// the test's log on failure) that ends with the test.
func openBrowser(t *testing.T, chromium string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1600),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	// chromedp's own messages go to a buffer, shown when a wait fails: it
	// may still write while the test ends, when t.Logf must not be called.
	logs := &testutil.Buffer{}
	logf := func(format string, args ...any) { fmt.Fprintf(logs, format+"\n", args...) }
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	t.Cleanup(cancelTab)
	return &browser{t: t, ctx: bctx, logs: logs}
}

// waitFor polls the JavaScript condition in the page until it holds;
// after browserWait the test fails with what the page shows.
func (b *browser) waitFor(what, condition string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](condition,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(browserWait))); err != nil {
		b.screenshot("failure.png")
		b.t.Fatalf("waiting for %s: %v\nthe page shows:\n%s\nchromedp said:\n%s", what, err, b.eval(`document.body.innerText`), b.logs.String())
	}
}

// eval is the value of a JavaScript expression in the page, as text.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return "(error: " + err.Error() + ")"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// submit fills the page's job form and clicks Submit.
func (b *browser) submit(source, params string) {
	b.t.Helper()
	src, _ := json.Marshal(source)
	par, _ := json.Marshal(params)
	fill := fmt.Sprintf(`document.getElementById("submit-source").value = %s; document.getElementById("submit-params").value = %s; true`, src, par)
	if err := chromedp.Do(b.ctx,
		chromedp.WaitVisible(chromedp.ID("submit-form")),
		chromedp.Evaluate[chromedp.Void](fill),
		chromedp.Click(chromedp.ID("submit-button")),
	); err != nil {
		b.t.Fatalf("submitting a job with the form: %v", err)
	}
	b.waitFor("the form to take the job", `!document.getElementById("submit-button").disabled`)
	if msg := b.eval(`document.getElementById("submit-error").textContent`); msg != "" {
		b.t.Fatalf("the form refused the job: %s", msg)
	}
}

// screenshot saves the whole page as name in the test's temporary
// directory and in $RAYFLOW_SCREENSHOT_DIR when that is set.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dirs := []string{b.t.TempDir()}
	if d := os.Getenv(screenshotDirEnv); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Errorf("saving the screenshot: %v", err)
			continue
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			b.t.Errorf("saving the screenshot: %v", err)
			continue
		}
		b.t.Logf("screenshot: %s", p)
	}
}
