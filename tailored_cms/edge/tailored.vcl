# tailored_cms in front of a django CMS site with EDGE_MODE on: Varnish 7 keeps one copy of a page per tailoring.
# Include it after your backend, in the VCL you start varnishd with (docs/edge.md):
#
#     vcl 4.1;
#     backend default { .host = "127.0.0.1"; .port = "8000"; }
#     include "/path/to/tailored_cms/edge/tailored.vcl";
#
# What it does: pages are looked up without cookies, under the visitor's tailoring key (the tailored_key cookie,
# copied into X-Tailored-Key and X-Tailored-Bucket) and the device class derived here (X-Tailored-Device); the
# backend still gets the cookies on a miss. Only responses the site marked with X-Tailored-Edge are stored, under
# the Vary they name. Signed-in users, editors and anything but GET and HEAD go straight to the site.

acl tailored_purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # The site's purge task (EDGE_PURGE_URLS): BAN <path> drops every copy of that page, whatever its host and
    # query string; BAN with "X-Tailored-Ban: tailored" drops every tailored page (a segment changed).
    if (req.method == "BAN") {
        if (client.ip !~ tailored_purgers) {
            return (synth(405, "Not allowed"));
        }
        if (req.http.X-Tailored-Ban == "tailored") {
            ban("obj.http.X-Tailored-Edge == tailored");
        } else {
            ban("obj.http.X-Tailored-Path == " + regsub(req.url, "\?.*$", ""));
        }
        return (synth(200, "Banned"));
    }
    # Set here and nowhere else: a client's own values are never trusted.
    unset req.http.X-Tailored-Key;
    unset req.http.X-Tailored-Bucket;
    unset req.http.X-Tailored-Device;
    unset req.http.X-Tailored-Cookie;
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)sessionid=" || req.url ~ "^/admin/"
        || req.url ~ "[?&](edit|structure|preview|toolbar_on|toolbar_off)(=|&|$)") {
        return (pass);  # signed-in users and editors: always the site
    }
    if (req.http.Cookie ~ "(^|;\s*)tailored_vid=" && req.http.Cookie !~ "(^|;\s*)tailored_key=") {
        # A known visitor whose key expired (EDGE_KEY_MAX_AGE): the site renders their page and gives the key.
        return (pass);
    }
    set req.http.X-Tailored-Key = "";
    set req.http.X-Tailored-Bucket = "";
    if (req.http.Cookie ~ "(^|;\s*)tailored_key=") {
        set req.http.X-Tailored-Key = regsub(req.http.Cookie, "^(.*;\s*)?tailored_key=([0-9a-f]*).*$", "\2");
        if (req.http.Cookie ~ "(^|;\s*)tailored_key=[0-9a-f]*\.[0-9]") {
            set req.http.X-Tailored-Bucket =
                regsub(req.http.Cookie, "^(.*;\s*)?tailored_key=[0-9a-f]*\.([0-9]+).*$", "\2");
        }
    }
    # The device class the device rule reads; the site trusts it in EDGE_MODE and varies on it when it asked.
    if (req.http.User-Agent ~ "(?i)bot|crawl|spider|slurp|facebookexternalhit") {
        set req.http.X-Tailored-Device = "bot";
    } elsif (req.http.User-Agent ~ "(?i)ipad|tablet|kindle|silk|playbook|android(?!.*mobile)") {
        set req.http.X-Tailored-Device = "tablet";
    } elsif (req.http.User-Agent ~ "(?i)mobi|iphone|ipod|android|windows phone") {
        set req.http.X-Tailored-Device = "mobile";
    } else {
        set req.http.X-Tailored-Device = "desktop";
    }
    if (req.http.Cookie) {
        set req.http.X-Tailored-Cookie = req.http.Cookie;  # given back to the site on a miss
        unset req.http.Cookie;
    }
    return (hash);
}

sub vcl_hash {
    # Each key's copies apart (Vary still decides): a lookup walks only the copies of its own key, not every
    # visitor's, under the page's lock. Varnish's built-in vcl_hash adds the URL and host after this.
    if (req.http.X-Tailored-Key) {
        hash_data(req.http.X-Tailored-Key);
    }
}

sub vcl_backend_fetch {
    if (bereq.http.X-Tailored-Cookie) {
        set bereq.http.Cookie = bereq.http.X-Tailored-Cookie;
        unset bereq.http.X-Tailored-Cookie;
    }
}

sub vcl_backend_response {
    if (!beresp.http.X-Tailored-Edge) {
        # The visitor's own page (or not the site's to share): never stored, and no request waits for it.
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # The site vouches that its Vary covers the visitor's cookies (through the key): Vary: Cookie, which its
    # session middleware may add, would keep a copy per visitor of what they all share.
    set beresp.http.Vary = regsuball(beresp.http.Vary, "(?i)(^|,)\s*cookie\s*(?=,|$)", "");
    set beresp.http.Vary = regsub(beresp.http.Vary, "^\s*,\s*", "");
    if (beresp.http.Vary == "") {
        unset beresp.http.Vary;
    }
    set beresp.http.X-Tailored-Path = regsub(bereq.url, "\?.*$", "");
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset resp.http.X-Tailored-Edge;
    unset resp.http.X-Tailored-Path;
}
