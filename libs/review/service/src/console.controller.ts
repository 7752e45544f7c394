import { Controller, Get, NotFoundException, Req, Res } from '@nestjs/common';
import { CONSOLE_HEADERS, consoleFile } from '@mandate/review-console';

interface RequestLike {
  readonly path?: string;
  readonly url?: string;
}
interface ResponseLike {
  setHeader(name: string, value: string): void;
  end(body: Buffer): void;
  statusCode: number;
}

/**
 * Serves the review console's static files at `/console/` (no token needed to load the page:
 * every API call it makes is authenticated). Only files inside the console directory, with known
 * types, under a same-origin Content-Security-Policy.
 */
@Controller('console')
export class ConsoleController {
  @Get()
  index(@Req() req: RequestLike, @Res() res: ResponseLike): void {
    this.send(req, res);
  }

  @Get('*path')
  file(@Req() req: RequestLike, @Res() res: ResponseLike): void {
    this.send(req, res);
  }

  private send(req: RequestLike, res: ResponseLike): void {
    const file = consoleFile(req.path ?? req.url ?? '/console/');
    if (!file) throw new NotFoundException('no such console file');
    res.statusCode = 200;
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
    res.setHeader('content-type', file.contentType);
    res.end(file.body);
  }
}
