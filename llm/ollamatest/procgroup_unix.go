//go:build unix

package ollamatest

import (
	"os/exec"
	"syscall"
)

// ownGroup starts ollama serve in a process group of its own, so that the
// model runners it spawns can be stopped with it: killing serve alone
// leaves them running, holding a core each, long after the test.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills serve and every runner it started.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
