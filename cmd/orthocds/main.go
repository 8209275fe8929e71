// Command orthocds is the OrthoCDS platform in one static binary:
//
//	orthocds serve                 run the HTTP API and the web page
//	orthocds search QUESTION...    batched search from the terminal
//	orthocds ask QUESTION          a cited answer (retrieval-only without an LLM)
//	orthocds ingest PATH...        index hospital documents (Markdown, HTML, PDF, text)
//	orthocds guidelines validate   check guideline files, naming file and field
//	orthocds predict / train / synth   risk predictors and their models
//
// With no DATABASE_URL it keeps its index in an embedded store under
// --data; with no reachable language model its answers are retrieval-only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "orthocds:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: orthocds <command> [flags]

commands:
  serve                     run the API and web page (default 127.0.0.1:8080); MCP at /mcp
  mcp                       the API as MCP tools for an agent, over stdin/stdout
  search QUESTION...        search the index, one query per argument, as one batch
  ask QUESTION              answer with citations
  ingest PATH...            index Markdown, HTML, PDF or text files and directories
  guidelines validate [DIR] validate guideline YAML files (default: the shipped corpus)
  guidelines stats [DIR]    entries per domain, source, language and grade; missing fields
  guidelines list           list the shipped guideline entries
  predict --predictor ID    score rows given as JSON on stdin or in a file
  train --predictor ID --data FILE.csv
                            fit, cross-validate and write a content-hashed model
  synth --predictor ID      write a SYNTHETIC cohort as CSV (for trying train)
  import-model --predictor ID --model M.json|M.ubj|M.txt --data FILE.csv [--expected P.txt]
                            an XGBoost or LightGBM model (import-xgboost is the old name)
  recalibrate --predictor ID --data local.csv --out DIR
                            logistic recalibration on local outcomes, as a new version
                            wrap a model trained in XGBoost, validated on FILE
  eval run [--suite NAME|FILE]
                            run an evaluation suite (starter, full or a YAML file);
                            JSON and HTML report, resumable; --shards N with a database
  eval worker               work shards of evaluation runs from the database (river)
  eval compare RUN_A RUN_B  what changed between two runs, with 95% bootstrap intervals
  cases list|validate|play  virtual patient cases for students (SYNTHETIC)
  backup --out FILE.tar.gz  archive the embedded data directory (index, audit, feedback, keys)
  restore --in FILE.tar.gz  restore it into an empty directory and check it
  load [--clients 200]      drive a running server on loopback with sidebar clients
  audit verify              check the audit trail's hash chain (database or DATA/audit.jsonl)
  keys create|list|revoke   API keys (stored hashed) with a role: clinician, student,
                            evaluator or admin
  bench search [--quick]    batched vector search against langchaingo and chromem-go,
                            on synthetic vectors, with recall against exact search
  bench cards               CDS Hooks card latency under 50 concurrent clients, 100k chunks

Run "orthocds <command> -h" for the flags of a command.
`

// run is the whole program; tests call it with their own arguments and
// environment.
func run(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cfg := defaultConfig(env)
	cmd, rest := args[0], args[1:]
	// The hospital's own predictors, for every command that meets them.
	if dir := env("ORTHOCDS_PREDICTORS_DIR"); dir != "" {
		if _, err := predictors.LoadDefinitions(dir); err != nil {
			return userError(err)
		}
	}
	switch cmd {
	case "serve":
		return runServe(ctx, cfg, env, rest, stderr)
	case "mcp":
		return runMCP(ctx, cfg, env, rest, stdin, stdout, stderr)
	case "search":
		return runSearch(ctx, cfg, rest, stdout, stderr)
	case "ask":
		return runAsk(ctx, cfg, rest, stdout, stderr)
	case "ingest":
		return runIngest(ctx, cfg, rest, stdout, stderr)
	case "guidelines":
		return runGuidelines(rest, stdout, stderr)
	case "predict":
		return runPredict(rest, stdin, stdout, stderr)
	case "train":
		return runTrain(rest, stdout, stderr)
	case "synth":
		return runSynth(rest, stdout, stderr)
	case "recalibrate":
		return runRecalibrate(rest, stdout, stderr)
	case "import-xgboost", "import-model":
		return runImport(rest, stdout, stderr)
	case "bench":
		return runBench(ctx, cfg, rest, stdout, stderr)
	case "eval":
		return runEval(ctx, cfg, rest, stdout, stderr)
	case "cases":
		return runCases(rest, stdin, stdout, stderr)
	case "backup":
		return runBackup(cfg, rest, stdout, stderr)
	case "restore":
		return runRestore(ctx, cfg, rest, stdout, stderr)
	case "load":
		return runLoad(ctx, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, cfg, rest, stdout, stderr)
	case "keys":
		return runKeys(cfg, env, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// userError prints an *orthocds.Error with its field list.
func userError(err error) error {
	var oe *orthocds.Error
	if !errors.As(err, &oe) || len(oe.FieldErrors) == 0 {
		return err
	}
	msg := oe.Message
	for _, fe := range oe.FieldErrors {
		msg += fmt.Sprintf("\n  %s: %s", fe.Field, fe.Detail)
	}
	return errors.New(msg)
}
