package nodeconfig

import (
	"sigs.k8s.io/yaml"
)

// AuthorizationModes returns the API server's authorizers in order: from
// --authorization-config when given (its authorizers[].type), otherwise
// --authorization-mode, which defaults to AlwaysAllow. ok is false when
// the configuration file names could not be read.
func (c *Component) AuthorizationModes() (modes []string, where string, ok bool) {
	if f := c.Flag("authorization-config"); f.Set {
		if c.AuthorizationConfig == nil {
			return nil, f.Value, false
		}
		var cfg struct {
			Authorizers []struct {
				Type string `json:"type"`
			} `json:"authorizers"`
		}
		if err := yaml.Unmarshal([]byte(c.AuthorizationConfig.Content), &cfg); err != nil {
			return nil, f.Value, false
		}
		for _, a := range cfg.Authorizers {
			modes = append(modes, a.Type)
		}
		return modes, c.AuthorizationConfig.Path + ": authorizers", true
	}
	if f := c.Flag("authorization-mode"); f.Set {
		return f.List(), "--authorization-mode=" + f.Value, true
	}
	return []string{"AlwaysAllow"}, "--authorization-mode is not set (default AlwaysAllow)", true
}

// Anonymous describes anonymous authentication on an API server.
type Anonymous struct {
	Enabled bool
	// Paths limits anonymous requests to these paths (structured
	// authentication configuration's anonymous.conditions); empty means
	// every path.
	Paths []string
	Where string
	// Known is false when the authentication configuration file could
	// not be read.
	Known bool
}

// AnonymousAuth returns whether the API server accepts anonymous
// requests: from --authentication-config's anonymous section when it has
// one, otherwise --anonymous-auth, which defaults to true.
func (c *Component) AnonymousAuth() Anonymous {
	if f := c.Flag("authentication-config"); f.Set {
		if c.AuthenticationConfig == nil {
			return Anonymous{Where: f.Value}
		}
		var cfg struct {
			Anonymous *struct {
				Enabled    bool `json:"enabled"`
				Conditions []struct {
					Path string `json:"path"`
				} `json:"conditions"`
			} `json:"anonymous"`
		}
		if err := yaml.Unmarshal([]byte(c.AuthenticationConfig.Content), &cfg); err != nil {
			return Anonymous{Where: f.Value}
		}
		if cfg.Anonymous != nil {
			a := Anonymous{Enabled: cfg.Anonymous.Enabled, Where: c.AuthenticationConfig.Path + ": anonymous", Known: true}
			for _, cond := range cfg.Anonymous.Conditions {
				a.Paths = append(a.Paths, cond.Path)
			}
			return a
		}
	}
	if f := c.Flag("anonymous-auth"); f.Set {
		return Anonymous{Enabled: !SameValue(f.Value, "false"), Where: "--anonymous-auth=" + f.Value, Known: true}
	}
	return Anonymous{Enabled: true, Where: "--anonymous-auth is not set (default true)", Known: true}
}
