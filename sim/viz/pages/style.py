"""CSS the pages share."""

# Solara's "This website runs on Solara" badge (solara/server/templates/loader-solara.html, an
# unclassed div) covered the plots' bottom-right corner on every screen
NO_BADGE = 'div:has(> b > a[href="https://solara.dev"]) { display: none !important; }\n'
