//go:build !unix

package searchbench

func peakRSS() int64 { return 0 }
