/* CookieConsent v3 on the test site, as docs/consent.md tells a site to set it up: a category named tailored_cms, and
   one for the site's analytics tool, matomo (ANALYTICS_CONSENT_SERVICE in test_analytics.py).
   hideFromBots is off because Playwright's Chromium says it is automated (navigator.webdriver). */
CookieConsent.run({
  hideFromBots: false,
  categories: {
    necessary: { enabled: true, readOnly: true },
    tailored_cms: {},
    matomo: {},
  },
  language: {
    default: "en",
    translations: {
      en: {
        consentModal: {
          title: "Cookies",
          description: "May we note what you read here?",
          acceptAllBtn: "Accept all",
          acceptNecessaryBtn: "Reject all",
          showPreferencesBtn: "Manage preferences",
        },
        preferencesModal: {
          title: "Your choices",
          acceptAllBtn: "Accept all",
          acceptNecessaryBtn: "Reject all",
          savePreferencesBtn: "Save",
          closeIconLabel: "Close",
          sections: [
            { title: "Personalization", description: "Notes what you read here.", linkedCategory: "tailored_cms" },
            { title: "Matomo", description: "Counts visits to this site.", linkedCategory: "matomo" },
          ],
        },
      },
    },
  },
});
