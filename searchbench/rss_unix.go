//go:build unix

package searchbench

import "syscall"

// peakRSS is the process's largest resident set so far, in bytes (0 where
// the system does not say).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024 // kilobytes on Linux
}
