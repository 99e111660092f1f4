package nodeconfig

import (
	"strconv"
	"strings"
)

// boolFlags are the boolean flags of the components that matter here. A
// bare boolean flag means true; any other flag written without "=" takes
// the next argument as its value, as pflag does.
var boolFlags = map[string]bool{
	"allow-privileged": true, "anonymous-auth": true, "profiling": true, "service-account-lookup": true,
	"service-account-extend-token-expiration": true, "enable-bootstrap-token-auth": true,
	"use-service-account-credentials": true, "leader-elect": true,
	"client-cert-auth": true, "peer-client-cert-auth": true, "auto-tls": true, "peer-auto-tls": true,
	"rotate-certificates": true, "rotate-server-certificates": true, "make-iptables-util-chains": true,
	"protect-kernel-defaults": true, "seccomp-default": true, "fail-swap-on": true,
	"enable-aggregator-routing": true, "enable-garbage-collector": true, "unsafe-no-fsync": true,
	"experimental-initial-corrupt-check": true, "enable-pprof": true, "v": false,
}

// ParseArgs splits a command line (without the binary) into arguments.
// pathOf gives each argument's position: its field path in a manifest or
// its index in a process's argument list.
func ParseArgs(argv []string, pathOf func(i int) string) []Arg {
	var out []Arg
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		arg := Arg{Path: pathOf(i)}
		switch {
		case a == "--" || a == "-" || !strings.HasPrefix(a, "-"):
			arg.Value = a
		default:
			name := strings.TrimLeft(a, "-")
			if n, v, ok := strings.Cut(name, "="); ok {
				arg.Name, arg.Value = n, v
			} else if boolFlags[name] || i+1 >= len(argv) || strings.HasPrefix(argv[i+1], "-") {
				arg.Name, arg.Value = name, "true"
			} else {
				arg.Name, arg.Value = name, argv[i+1]
				i++
			}
		}
		out = append(out, arg)
	}
	return out
}

// processPath is the position of a process's i-th argument (after the
// binary).
func processPath(i int) string { return "args[" + strconv.Itoa(i+1) + "]" }
