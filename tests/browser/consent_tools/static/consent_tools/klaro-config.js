/* Klaro's config on the test site, as docs/consent.md tells a site to write it: a service named tailored_cms, and the
   site's analytics tool, matomo (ANALYTICS_CONSENT_SERVICE in test_analytics.py). */
window.klaroConfig = {
  version: 1,
  elementID: "klaro",
  storageMethod: "cookie",
  storageName: "klaro",
  acceptAll: true,
  mustConsent: false,
  translations: {
    en: {
      purposes: { personalization: "Personalization", analytics: "Analytics" },
      tailored_cms: { description: "Notes what you read here, to tailor this site to you." },
      matomo: { description: "Counts visits to this site." },
    },
  },
  services: [
    { name: "tailored_cms", title: "Personalization", purposes: ["personalization"], default: false, cookies: [] },
    { name: "matomo", title: "Matomo", purposes: ["analytics"], default: false, cookies: [] },
  ],
};
