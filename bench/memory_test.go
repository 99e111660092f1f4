package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseResidentMemory(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status string
		want   residentMemory
		ok     bool
	}{
		{"both", "Name:\tkubeharden\nVmRSS:\t  338168 kB\nRssAnon:\t  281240 kB\nRssFile:\t   56928 kB\nRssShmem:\t       0 kB\n",
			residentMemory{Anon: 281240 << 10, File: 56928 << 10}, true},
		{"a zombie has no Rss lines", "Name:\tkubeharden\nState:\tZ (zombie)\n", residentMemory{}, false},
		{"only one", "RssAnon:\t 12 kB\n", residentMemory{}, false},
		{"not a number", "RssAnon:\t many kB\nRssFile:\t 1 kB\n", residentMemory{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseResidentMemory([]byte(tc.status))
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestPeakResidentMemory samples this test process, which holds a buffer
// it has written to, so its anonymous memory is at least that large.
func TestPeakResidentMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: resident memory is sampled on Linux only")
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	stop := make(chan struct{})
	sampled := peakResidentMemory(os.Getpid(), time.Millisecond, stop)
	time.Sleep(20 * time.Millisecond)
	close(stop)
	peak := <-sampled
	runtime.KeepAlive(buf)
	if !peak.ok || peak.Anon < int64(len(buf)) || peak.File <= 0 {
		t.Errorf("peak %+v, want at least %d bytes anonymous and some file pages", peak, len(buf))
	}
	if got := (peakMemory{}).megabytes(1 << 20); got != "-" {
		t.Errorf("no samples shown as %q, want -", got)
	}
	if got := peak.megabytes(3 << 19); got != "1.5M" {
		t.Errorf("1.5 MiB shown as %q", got)
	}
}
