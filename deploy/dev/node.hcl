# The node file `make run` uses: every role and feature of the built-in
# catalog on one development node, so the Consul UI shows every endpoint of
# the Carbonio monitoring document. Nothing listens on most of these ports
# here, so expect their checks to be critical: that is the alarm working.
node {
  roles    = ["mta", "proxy", "mailstore", "directory", "replica"]
  features = ["antivirus", "dkim", "active-replica"]
  address  = "127.0.0.1"
}

# The dev agent serves its HTTP API on 8500 and RPC on 8300 like a Carbonio
# server, so the directory role's Consul checks pass here.
