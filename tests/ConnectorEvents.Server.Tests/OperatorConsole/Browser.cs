using System.Collections.ObjectModel;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace ConnectorEvents.Server.Tests.OperatorConsole;

/// <summary>
/// Headless Chromium from Debian (<c>/usr/bin/chromium</c>), driven through its own <c>/usr/bin/chromedriver</c>: nothing is
/// downloaded (test.sh installs both when missing). The viewport is set exactly (1280×800 unless told), so screenshots are
/// the size the docs say.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private readonly string _profile = Path.Combine(Path.GetTempPath(), "ce-chromium-" + Guid.NewGuid().ToString("N"));
    private readonly ChromeDriver _driver;

    public Browser(Uri baseUri)
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
        {
            throw new InvalidOperationException(
                $"The console's browser tests need Debian's chromium and chromium-driver ({ChromiumPath}, {DriverPath}); test.sh installs them.");
        }
        BaseUri = baseUri;
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // The flags that keep Chromium off the network it cannot reach here (background updates, sync, QUIC probes).
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--window-size=1280,800", $"--user-data-dir={_profile}");
        _driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        _driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        _driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(30);
        Viewport(1280, 800);
    }

    public Uri BaseUri { get; }

    public IWebDriver Driver => _driver;

    public string Url => _driver.Url;

    public string PageSource => _driver.PageSource;

    public void Viewport(int width, int height, bool mobile = false) =>
        _driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = mobile,
        });

    public void Open(string path) => _driver.Navigate().GoToUrl(new Uri(BaseUri, path));

    public IWebElement Find(string css) => _driver.FindElement(By.CssSelector(css));

    public ReadOnlyCollection<IWebElement> FindAll(string css) => _driver.FindElements(By.CssSelector(css));

    public IWebElement Link(string text) => _driver.FindElement(By.LinkText(text));

    public IWebElement Button(string text) =>
        _driver.FindElements(By.TagName("button")).First(b => b.Text.Trim() == text);

    public object? Script(string script, params object[] arguments) => _driver.ExecuteScript(script, arguments);

    public void WaitFor(Func<IWebDriver, bool> condition, string what)
    {
        var wait = new WebDriverWait(_driver, TimeSpan.FromSeconds(20));
        try
        {
            wait.Until(condition);
        }
        catch (WebDriverTimeoutException ex)
        {
            throw new TimeoutException($"Waited for {what}; the page is {_driver.Url}:\n{Text("main")}", ex);
        }
    }

    public string Text(string css) => _driver.FindElements(By.CssSelector(css)) is [var element, ..] ? element.Text : "";

    public void SignIn(string key)
    {
        Open("/console/sign-in");
        Find("#api-key").SendKeys(key);
        Find("#api-key").Submit();
    }

    public Cookie? Cookie(string name) => _driver.Manage().Cookies.GetCookieNamed(name);

    private static readonly Lazy<string> AxeSource = new(() => new Deque.AxeCore.Commons.BundledAxeScriptProvider().GetScript());

    /// <summary>
    /// The page's WCAG 2.1 A and AA violations as axe-core finds them (rule, impact and the first elements), injected through
    /// the driver (the page's CSP lets no script of its own in).
    /// </summary>
    public IReadOnlyList<string> AccessibilityViolations()
    {
        _driver.ExecuteScript(AxeSource.Value);
        var found = (string)_driver.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
              .then(r => done(JSON.stringify(r.violations.map(v =>
                `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`))))
              .catch(e => done(JSON.stringify(["axe failed: " + e])));
            """)!;
        return System.Text.Json.JsonSerializer.Deserialize<string[]>(found)!;
    }

    public void Screenshot(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _driver.GetScreenshot().SaveAsFile(path);
    }

    public void Dispose()
    {
        _driver.Quit();
        _driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
