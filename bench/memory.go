package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"time"
)

// residentMemory is a process's resident memory split as Linux accounts for
// it in /proc/PID/status. Anon is the process's own memory: heap, stacks,
// the runtime's structures. File is pages of files mapped into it, nearly
// all of them the executable's code and read-only data. File varies from
// run to run of the same binary by as much as 20 MB: the kernel maps a
// page-cache folio of the executable whole, and how large those folios are
// depends on how the file came into the page cache, not on the program.
type residentMemory struct {
	Anon, File int64 // bytes
}

// readResidentMemory reads pid's resident memory. ok is false where there
// is no /proc (not Linux) or the process has exited.
func readResidentMemory(pid int) (m residentMemory, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return residentMemory{}, false
	}
	return parseResidentMemory(b)
}

// parseResidentMemory reads the RssAnon and RssFile lines of a
// /proc/PID/status file (values in kB).
func parseResidentMemory(status []byte) (m residentMemory, ok bool) {
	var anon, file bool
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, value, found := bytes.Cut(sc.Bytes(), []byte(":"))
		if !found {
			continue
		}
		var into *int64
		switch string(name) {
		case "RssAnon":
			into, anon = &m.Anon, true
		case "RssFile":
			into, file = &m.File, true
		default:
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(value), []byte(" kB"))), 10, 64)
		if err != nil {
			return residentMemory{}, false
		}
		*into = kb * 1024
	}
	return m, anon && file
}

// peakResidentMemory samples pid's resident memory every interval until
// stop is closed, then sends the largest Anon and the largest File seen
// (each at its own moment) on the channel it returns, with ok false when
// no sample could be read.
func peakResidentMemory(pid int, interval time.Duration, stop <-chan struct{}) <-chan peakMemory {
	out := make(chan peakMemory, 1)
	go func() {
		var peak peakMemory
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if m, ok := readResidentMemory(pid); ok {
				peak.ok = true
				peak.Anon, peak.File = max(peak.Anon, m.Anon), max(peak.File, m.File)
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

type peakMemory struct {
	residentMemory
	ok bool
}

// megabytes formats n bytes of p for the table, or "-" when p has no
// samples.
func (p peakMemory) megabytes(n int64) string {
	if !p.ok {
		return "-"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + "M"
}
